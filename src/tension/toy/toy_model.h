#pragma once
// One toy model (App. G): h = ReLU(W1 x + b1) (eq. 7), f' = ReLU(W2 h + b2) (eq. 8), as plain tensors,
// and its place in the fused trainer's padded parameter layout.
#include <torch/torch.h>

#include <cstdint>

#include "tension/toy/fused_mlp.h"

namespace tension::toy {

struct ToyModel {
  torch::Tensor w1;  // [m, inputs]
  torch::Tensor b1;  // [m] (zeros when the model has no hidden bias)
  torch::Tensor w2;  // [outputs, m]
  torch::Tensor b2;  // [outputs]
  int64_t hidden() const { return w1.size(0); }
};

// torch.nn.Linear's default initialisation (every weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in))),
// drawn from a CPU generator seeded with `seed`: W1, b1, W2, b2 in that order. Without a hidden bias b1 is 0
// and draws nothing. `scale` multiplies every bound (1: nn.Linear's).
ToyModel init_model(int inputs, int hidden, int outputs, bool hidden_bias, uint64_t seed, double scale = 1.0);

// Eq. 7: h = ReLU(W1 x + b1), x [N, inputs] -> [N, m].
torch::Tensor hidden_layer(const ToyModel& m, const torch::Tensor& x);
// The pre-activation of eq. 8, W2 h + b2 -> [N, outputs]: the f_v the attribution matrices read.
torch::Tensor output_pre(const ToyModel& m, const torch::Tensor& h);
// Eq. 8: f' = ReLU(W2 h + b2) -> [N, outputs].
torch::Tensor toy_forward(const ToyModel& m, const torch::Tensor& x);

// Writes m into one restart's padded parameter row (layout.size floats, zero padding), and reads it back.
void pack(const ToyModel& m, const PaddedLayout& layout, float* row);
ToyModel unpack(const PaddedLayout& layout, const float* row, int inputs, int hidden, int outputs);

}  // namespace tension::toy
