#include "tension/viz/opacity.h"

#include <limits>
#include <vector>

#include "tension/core/error.h"
#include "tension/core/percentile.h"
#include "tension/core/blur.h"

namespace tension::viz {

torch::Tensor opacity(const torch::Tensor& gradients, const OpacityOptions& opt) {
  if (gradients.dim() != 4) throw Error("opacity takes gradients [B, C, S, S], got " + c10::str(gradients.sizes()));
  if (opt.clip_percent < 0 || opt.clip_percent >= 100) throw Error("the opacity clip must be in [0, 100)");
  auto a = gradients.to(torch::kFloat).cpu().mean(1, true).contiguous();
  auto flat = a.flatten(1);
  if (opt.clip_percent > 0) {
    std::vector<float> clip;
    for (int64_t b = 0; b < flat.size(0); ++b) {
      auto row = flat[b].contiguous();
      std::vector<float> values(row.data_ptr<float>(), row.data_ptr<float>() + row.numel());
      clip.push_back(static_cast<float>(percentile(std::move(values), 100 - opt.clip_percent)));
    }
    flat = torch::minimum(flat, torch::tensor(clip).unsqueeze(1));
  }
  flat = flat / std::get<0>(flat.max(1, true)).clamp_min(std::numeric_limits<float>::min());
  return gaussian_blur(flat.view_as(a), opt.blur_sigma).clamp(0, 1);
}

}  // namespace tension::viz
