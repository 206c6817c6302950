#pragma once
// The model's input range: [0, 1] pixels to what the model takes (range, then optional mean/std) and back.
// Used by preprocessing (data stage) and wherever random or optimised images enter a model.
#include <torch/torch.h>

#include "tension/model/input_spec.h"

namespace tension::model {

// Throws tension::Error unless channels is 1 or 3, the size is positive, mean and std have one value per
// channel (or are both empty), no std is 0 and the range is not empty.
void check_input_spec(const InputSpec& spec);

// The range/mean/std step alone: [0, 1] pixels [.., C, H, W] to the model's input range.
torch::Tensor to_model_range(const torch::Tensor& x, const InputSpec& spec);

// Inverse of the range/mean/std step only: a model-range tensor [.., C, H, W] back to [0, 1] pixels.
torch::Tensor to_unit_range(const torch::Tensor& x, const InputSpec& spec);

}  // namespace tension::model
