#include "tension/attribution/terms.h"

#include "tension/core/error.h"

namespace tension::attribution {

// Eq. 1.
torch::Tensor layer_attribution(const torch::Tensor& grad, const torch::Tensor& h) {
  if (grad.sizes() != h.sizes()) throw Error("layer_attribution: gradient and activation shapes differ");
  return grad * h;
}

// Eq. 2, with the norms.
Totals attribution_totals(const torch::Tensor& s) {
  if (s.dim() != 2 && s.dim() != 4) throw Error("attribution_totals: S must be [N, C] or [N, C, H, W]");
  auto flat = s.reshape({s.size(0), -1});
  Totals t;
  t.e = flat.sum(1);
  t.e_pos = flat.clamp_min(0).sum(1);
  t.e_neg = (-flat).clamp_min(0).sum(1);
  t.l1 = t.e_pos + t.e_neg;
  t.l2 = flat.norm(2, 1);
  t.l21 = s.dim() == 4 ? s.norm(2, 1).reshape({s.size(0), -1}).sum(1) : t.l2;
  return t;
}

// Eq. 3.
std::pair<torch::Tensor, torch::Tensor> phi_maps(const torch::Tensor& s) {
  if (s.dim() != 4) throw Error("phi_maps: S must be [N, C, H, W]");
  return {s.clamp_min(0).sum(1), (-s).clamp_min(0).sum(1)};
}

}  // namespace tension::attribution
