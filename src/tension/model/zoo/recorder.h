#pragma once
// Collects the tensors at the requested taps while a zoo network runs its forward, and says when the forward
// may stop (every tap recorded and the output not wanted).
#include <torch/torch.h>

#include <string>
#include <vector>

#include "tension/model/tap.h"

namespace tension::model {

class TapRecorder {
 public:
  TapRecorder(std::vector<Tap> taps, bool want_output);

  // Called by the network with the input of every layer it lists, before computing the layer. Returns done():
  // true means stop here (the input, then possibly undefined, is not needed).
  [[nodiscard]] bool in(const std::string& layer, const torch::Tensor& t);
  // Called with the output of every layer it lists.
  void out(const std::string& layer, const torch::Tensor& t);

  // True once every requested tap is recorded and the output is not wanted; it then stays true.
  bool done() const { return pending_ == 0 && !want_output_; }

  // The recorded tensors in request order. Throws std::logic_error when a tap was never recorded: the network
  // lists a layer that its forward does not report.
  std::vector<torch::Tensor> taps() const;

  // Every layer passed to out(), in call order (lets tests check that a network lists its layers in
  // execution order).
  const std::vector<std::string>& out_order() const { return out_order_; }

 private:
  void record(const std::string& layer, TapSide side, const torch::Tensor& t);

  std::vector<Tap> taps_;
  std::vector<torch::Tensor> values_;
  size_t pending_;
  bool want_output_;
  std::vector<std::string> out_order_;
};

}  // namespace tension::model
