#pragma once
// Turns a decoded image into a model input: grey<->RGB as the model needs, largest centre crop,
// antialiased resize, then the model's input range and optional mean/std.
#include <torch/torch.h>

#include "tension/model/input_spec.h"

namespace tension::data {

// Throws tension::Error unless channels is 1 or 3, the size is positive, mean and std have one value per
// channel (or are both empty), no std is 0 and the range is not empty.
void check_input_spec(const model::InputSpec& spec);

// img: float [C, H, W] in [0, 1] (C = 1 or 3). Returns float [spec.channels, spec.height, spec.width].
torch::Tensor preprocess(const torch::Tensor& img, const model::InputSpec& spec);

// The range/mean/std step alone: [0, 1] pixels [.., C, H, W] to the model's input range.
torch::Tensor to_model_range(const torch::Tensor& x, const model::InputSpec& spec);

// Inverse of the range/mean/std step only: a model-range tensor [.., C, H, W] back to [0, 1] pixels.
torch::Tensor to_unit_range(const torch::Tensor& x, const model::InputSpec& spec);

}  // namespace tension::data
