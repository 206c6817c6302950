#include "tension/core/blur.h"

#include <cmath>

#include "tension/core/error.h"

namespace tension {

torch::Tensor gaussian_blur(const torch::Tensor& x, double sigma) {
  if (x.dim() != 4) throw Error("gaussian_blur takes [B, C, H, W], got " + c10::str(x.sizes()));
  if (sigma <= 0) return x;
  const int64_t r = static_cast<int64_t>(std::ceil(4 * sigma));
  auto t = torch::arange(-r, r + 1, x.options()).to(torch::kDouble);
  auto k = (-(t * t) / (2 * sigma * sigma)).exp();
  k = (k / k.sum()).to(x.scalar_type());
  const int64_t c = x.size(1);
  namespace F = torch::nn::functional;
  // Reflection needs a pad shorter than the side; replicate the border of smaller images.
  auto pad = [&](const torch::Tensor& y, std::vector<int64_t> p) {
    bool fits = y.size(2) > std::max(p[2], p[3]) && y.size(3) > std::max(p[0], p[1]);
    if (fits) return F::pad(y, F::PadFuncOptions(p).mode(torch::kReflect));
    return F::pad(y, F::PadFuncOptions(p).mode(torch::kReplicate));
  };
  auto y = pad(x, {r, r, 0, 0});
  y = F::conv2d(y, k.view({1, 1, 1, -1}).expand({c, 1, 1, 2 * r + 1}), F::Conv2dFuncOptions().groups(c));
  y = pad(y, {0, 0, r, r});
  return F::conv2d(y, k.view({1, 1, -1, 1}).expand({c, 1, 2 * r + 1, 1}), F::Conv2dFuncOptions().groups(c));
}

}  // namespace tension
