#include "tension/render/posneg.h"

#include <algorithm>

#include "tension/core/error.h"
#include "tension/core/percentile.h"
#include "tension/core/blur.h"

namespace tension::render {

namespace {

double pooled_percentile(const std::vector<torch::Tensor>& maps, double pct) {
  std::vector<float> all;
  for (const auto& m : maps) {
    auto t = m.detach().to(torch::kCPU, torch::kFloat).contiguous();
    all.insert(all.end(), t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
  }
  return all.empty() ? 1e-8 : std::max(percentile(std::move(all), pct), 1e-8);
}

// Piecewise-linear channel of a matplotlib segment colour map through the points (x, y).
torch::Tensor segments(const torch::Tensor& d, const std::vector<std::pair<double, double>>& pts) {
  auto out = torch::zeros_like(d);
  for (size_t i = 0; i + 1 < pts.size(); ++i) {
    auto [x0, y0] = pts[i];
    auto [x1, y1] = pts[i + 1];
    auto in = (d >= x0) & (d <= x1);
    out = torch::where(in, y0 + (d - x0) * ((y1 - y0) / (x1 - x0)), out);
  }
  return out;
}

}  // namespace

PosNegRange posneg_range(const std::vector<torch::Tensor>& phi_pos, const std::vector<torch::Tensor>& phi_neg,
                         double lo_pct, double hi_pct) {
  if (!(lo_pct >= 0 && lo_pct < hi_pct && hi_pct <= 100)) throw Error("overlay percentiles need 0 <= lo < hi <= 100");
  return {pooled_percentile(phi_pos, lo_pct), pooled_percentile(phi_pos, hi_pct), pooled_percentile(phi_neg, lo_pct),
          pooled_percentile(phi_neg, hi_pct)};
}

torch::Tensor thresholded_linear_map(const torch::Tensor& x, double lo, double hi) {
  if (hi <= lo) return (x > lo).to(x.scalar_type());
  return ((x - lo) / (hi - lo)).clamp(0, 1);
}

torch::Tensor jet(const torch::Tensor& d) {
  auto x = d.clamp(0, 1);
  auto r = segments(x, {{0, 0}, {0.35, 0}, {0.66, 1}, {0.89, 1}, {1, 0.5}});
  auto g = segments(x, {{0, 0}, {0.125, 0}, {0.375, 1}, {0.64, 1}, {0.91, 0}, {1, 0}});
  auto b = segments(x, {{0, 0.5}, {0.11, 1}, {0.34, 1}, {0.65, 0}, {1, 0}});
  return torch::stack({r, g, b}, -1);
}

torch::Tensor posneg_overlay(const torch::Tensor& phi_pos, const torch::Tensor& phi_neg, const PosNegRange& range,
                             int64_t height, int64_t width, double blur_sd) {
  if (phi_pos.dim() != 2 || phi_pos.sizes() != phi_neg.sizes()) {
    throw Error("posneg_overlay takes two [h, w] maps of one size, got " + c10::str(phi_pos.sizes()) + " and " +
                c10::str(phi_neg.sizes()));
  }
  auto maps = torch::stack({thresholded_linear_map(phi_pos.to(torch::kFloat), range.pos_lo, range.pos_hi),
                            thresholded_linear_map(phi_neg.to(torch::kFloat), range.neg_lo, range.neg_hi)})
                  .unsqueeze(0);
  namespace F = torch::nn::functional;
  maps = F::interpolate(maps, F::InterpolateFuncOptions()
                                  .size(std::vector<int64_t>{height, width})
                                  .mode(torch::kBilinear)
                                  .align_corners(false));
  maps = gaussian_blur(maps, blur_sd).clamp(0, 1)[0];
  auto p = maps[0], n = maps[1];
  auto colour = jet((p - n + 1) / 2).permute({2, 0, 1});
  return torch::cat({colour, torch::maximum(p, n).unsqueeze(0)});
}

torch::Tensor composite_over_grey(const torch::Tensor& image, const torch::Tensor& rgba) {
  auto g = image.to(torch::kFloat).mean(0);
  auto lo = g.min(), hi = g.max();
  g = (g - lo) / torch::clamp_min(hi - lo, 1e-8);
  auto mean = g.mean();
  g = ((g - mean) * 0.4 + mean * 1.5).clamp(0, 1);
  auto grey = g.unsqueeze(0).expand({3, -1, -1});
  auto alpha = rgba[3].unsqueeze(0);
  return grey * (1 - alpha) + rgba.slice(0, 0, 3) * alpha;
}

}  // namespace tension::render
