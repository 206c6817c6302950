#pragma once
// The ZooModel of every native network: input checks, grad mode, truncation and weights around a ZooNet.
#include <memory>
#include <string>
#include <vector>

#include "tension/model/zoo/zoo.h"
#include "tension/model/zoo/net.h"

namespace tension::model {

class NativeZooModel final : public ZooModel {
 public:
  // Loads opt.weights into net when given. Freezes the parameters and puts the net in eval mode; later mode
  // changes (a trainer's train()) are left to the caller.
  NativeZooModel(std::string name, std::shared_ptr<ZooNet> net, const ZooOptions& opt);

  const std::string& name() const override { return name_; }
  const InputSpec& input_spec() const override { return net_->input_spec(); }
  const std::vector<LayerInfo>& layers() const override { return net_->layers(); }
  RunResult run(const torch::Tensor& x, const std::vector<Tap>& taps, const RunOptions& opt = {}) override;
  RunResult run_from(const Tap& source, const torch::Tensor& h, const std::vector<Tap>& taps,
                     const RunOptions& opt = {}) override;
  void to(torch::Device device) override;
  torch::Device device() const override { return device_; }
  std::string weights_id() const override { return weights_id_; }
  std::vector<std::pair<std::string, torch::Tensor>> named_parameters() const override;
  torch::nn::Module& module() override { return *net_; }
  void save_weights(const std::string& path) override;

 private:
  std::string name_;
  std::shared_ptr<ZooNet> net_;
  std::vector<std::string> layer_names_;
  std::string weights_id_;
  torch::Device device_ = torch::kCPU;
};

}  // namespace tension::model
