#pragma once
// Turns a decoded image into a model input: grey<->RGB as the model needs, largest centre crop,
// antialiased resize, then the model's input range and optional mean/std (model/input_range.h).
#include <torch/torch.h>

#include "tension/model/input_spec.h"

namespace tension::data {

// img: float [C, H, W] in [0, 1] (C = 1 or 3). Returns float [spec.channels, spec.height, spec.width].
torch::Tensor preprocess(const torch::Tensor& img, const model::InputSpec& spec);

}  // namespace tension::data
