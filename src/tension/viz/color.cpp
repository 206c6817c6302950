#include "tension/viz/color.h"

#include "tension/core/error.h"

namespace tension::viz {

torch::Tensor color_correlation() {
  auto svd_sqrt = torch::tensor({{0.26, 0.09, 0.02}, {0.27, 0.00, -0.05}, {0.27, -0.09, 0.03}}, torch::kDouble);
  return (svd_sqrt / svd_sqrt.norm(2, 0).max()).to(torch::kFloat);
}

namespace {

// Applies a 3x3 matrix to the channel vector of every pixel of [.., 3, H, W].
torch::Tensor per_pixel(const torch::Tensor& m, const torch::Tensor& x) {
  if (x.dim() < 3 || (x.size(-3) != 1 && x.size(-3) != 3)) {
    throw Error("colour (de)correlation takes [.., C, H, W] with C = 1 or 3, got " + c10::str(x.sizes()));
  }
  if (x.size(-3) == 1) return x;
  return torch::einsum("ij,...jhw->...ihw", {m.to(x.device(), x.scalar_type()), x});
}

}  // namespace

torch::Tensor recorrelate(const torch::Tensor& d) { return per_pixel(color_correlation(), d); }

torch::Tensor decorrelate(const torch::Tensor& rgb) {
  return per_pixel(torch::linalg::inv(color_correlation().to(torch::kDouble)).to(torch::kFloat), rgb);
}

}  // namespace tension::viz
