#pragma once
// Receptive fields from layer arithmetic (Araujo et al. 2019, cited by the paper): every convolution, pooling and
// padding between two tensors composes into a stride, an offset and a size per axis. The layers are read from
// the autograd graph of one differentiable forward, so that it holds for every frontend and for branches,
// concatenations and skip connections, without a pass per unit. Gradient supports (receptive_field.h) stay the
// check (tests) and the fallback where an op on the way is not one of those the arithmetic covers.
#include <torch/torch.h>

#include <array>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

#include "tension/model/receptive_field.h"

namespace torch::autograd {
struct Node;
struct Edge;
}

namespace tension::model {

// Along one axis, position p of a tensor reads positions [p * stride + offset, p * stride + offset + size) of
// the source (before clipping to the source's grid).
struct AxisField {
  int64_t stride = 1, offset = 0, size = 1;
};

// How a tensor reads a source tensor's positions.
struct LayerField {
  std::optional<std::array<AxisField, 2>> positional;  // rows, columns; unset: no part that moves with position
  Box fixed;                  // source positions every unit reads wherever it is (after a global pool); unclipped
  bool reads_nothing() const { return !positional && fixed.height() <= 0; }
};

// The layer fields of tensors computed from one source in a differentiable forward (the model's input, or a tap
// taken in the same forward). Fields of the graph's nodes are remembered between calls.
class LayerArithmetic {
 public:
  explicit LayerArithmetic(const torch::Tensor& source);

  // How `t` reads the source; nullopt where an op between them is not covered (`uncovered()` names it). A tensor
  // that does not depend on the source reads nothing.
  std::optional<LayerField> field(const torch::Tensor& t);
  // The source positions that positions `at` of `t` read ([top, bottom) x [left, right) of t's grid; any box for
  // a tensor without positions), clipped to the source's grid; nullopt as for field().
  std::optional<Box> box(const torch::Tensor& t, const Box& at);
  const std::string& uncovered() const { return uncovered_; }

 private:
  // A node's field. Where an op on the way is not covered, `known` is false and `field.fixed` still bounds
  // everything it reads, which is exact again once a later op pools all positions (a dense head).
  struct Walked {
    LayerField field;
    bool known = true;
  };
  Walked node_field(torch::autograd::Node* node);
  Walked edge_field(const torch::autograd::Edge& e);
  Walked walk(torch::autograd::Node* node);
  // The shape of output `nr` of n's forward op.
  const std::vector<int64_t>& shape_of(const torch::autograd::Node& n, uint32_t nr);

  torch::autograd::Node* source_node_;
  uint32_t source_nr_;
  int64_t source_h_, source_w_;
  std::unordered_map<torch::autograd::Node*, Walked> memo_;
  std::map<std::pair<const torch::autograd::Node*, uint32_t>, std::vector<int64_t>> shapes_;
  std::string uncovered_;
};

// The source box of positions `at` under field f, clipped to an h x w grid (empty when f reads nothing).
Box field_box(const LayerField& f, const Box& at, int64_t h, int64_t w);

}  // namespace tension::model
