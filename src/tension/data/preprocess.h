#pragma once
// Turns a decoded image into a model input: grey<->RGB as the model needs, largest centre crop,
// antialiased resize, then the model's input range and optional mean/std (model/input_range.h).
#include <torch/torch.h>

#include "tension/model/input_spec.h"

namespace tension::data {

// img: float [C, H, W] in [0, 1] (C = 1 or 3). Returns float [spec.channels, spec.height, spec.width].
torch::Tensor preprocess(const torch::Tensor& img, const model::InputSpec& spec);

// img on an optimisation canvas (a seed of an accentuation, a cell of a figure): [channels, side, side] in [0, 1],
// the largest centre crop resized.
torch::Tensor to_canvas(const torch::Tensor& img, int64_t channels, int64_t side);

}  // namespace tension::data
