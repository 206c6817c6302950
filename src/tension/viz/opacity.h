#pragma once
// MACO's opacity mask (paper §4; docs/paper-code.md §2.8.5): where the objective's gradient was
// large over the optimisation, the image matters; elsewhere it fades.
#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace tension::viz {

struct OpacityOptions {
  double clip_percent = 3;   // clip the top p % (3: accentuation/inversion display, 8: plain FV); 0 = none
  double blur_sigma = 2;     // pixels of the canvas
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(OpacityOptions, clip_percent, blur_sigma)

// gradients [B, C, S, S] (OptimizeResult::gradients) -> alpha [B, 1, S, S] in [0, 1]: channel mean, values above
// the (100 - p)th percentile of each image clipped to it, divided by the maximum, Gaussian blur.
torch::Tensor opacity(const torch::Tensor& gradients, const OpacityOptions& opt = {});

}  // namespace tension::viz
