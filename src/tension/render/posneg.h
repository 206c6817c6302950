#pragma once
// The paper's two-dimensional colour scale for phi+ / phi- maps (docs/paper-code.md §2.6): red where a
// feature is excited, blue where it is inhibited, green where both, transparent where neither.
#include <torch/torch.h>

#include <vector>

namespace tension::render {

// The thresholds of the maps: [lo, hi] for phi+ and for phi-.
struct PosNegRange {
  double pos_lo = 0, pos_hi = 1, neg_lo = 0, neg_hi = 1;
};

// Percentiles (default P50 and P95) of phi+ and of phi- pooled over every map and position of the shown set,
// floored at 1e-8: maps are normalised across images.
PosNegRange posneg_range(const std::vector<torch::Tensor>& phi_pos, const std::vector<torch::Tensor>& phi_neg,
                         double lo_pct = 50, double hi_pct = 95);

// 0 at or below lo, 1 at or above hi, linear between.
torch::Tensor thresholded_linear_map(const torch::Tensor& x, double lo, double hi);

// matplotlib's jet colour map: d [...] in [0, 1] -> [..., 3].
torch::Tensor jet(const torch::Tensor& d);

// RGBA [4, H, W] in [0, 1] from two [h, w] maps: thresholded, upsampled bilinearly to H x W, blurred (sd in
// pixels); colour jet((p - n + 1) / 2), opacity max(p, n).
torch::Tensor posneg_overlay(const torch::Tensor& phi_pos, const torch::Tensor& phi_neg, const PosNegRange& range,
                             int64_t height, int64_t width, double blur_sd);

// The overlay over a grey, de-contrasted copy of image [C, H, W] in [0, 1] (min-max normalised, then
// (g - mean) * 0.4 + mean * 1.5, clipped): [3, H, W].
torch::Tensor composite_over_grey(const torch::Tensor& image, const torch::Tensor& rgba);

}  // namespace tension::render
