#pragma once
// The paper's attribution quantities (§2-3): S_l, E, E+, E-, the phi maps and the norms the analyses use.
#include <torch/torch.h>

namespace tension::attribution {

// Eq. 1: S_l(x, f_v) = grad_{h_l} f_v(x) (.) h_l, elementwise. grad and h have the same shape.
torch::Tensor layer_attribution(const torch::Tensor& grad, const torch::Tensor& h);

// Per-sample totals of S [N, ...].
struct Totals {
  torch::Tensor e;       // E_l = sum S                                   [N]
  torch::Tensor e_pos;   // E+ = sum ReLU(S)                (eq. 2)       [N]
  torch::Tensor e_neg;   // E- = sum ReLU(-S)               (eq. 2)       [N]
  torch::Tensor l1;      // ||S||_1 = E+ + E-                             [N]
  torch::Tensor l2;      // ||S||_2 over all entries                      [N]
  torch::Tensor l21;     // sum over positions of the channel L2 norm: the atlas's "L2 attribution norm"
                         // (docs/paper-code.md §2.3); equals l2 for S without positions [N]
};

// Eq. 2 and the norms. S: [N, C, H, W] or [N, C].
Totals attribution_totals(const torch::Tensor& s);

// Eq. 3: phi+/- = sum over channels of ReLU(+/-S), maps [N, H, W]. S: [N, C, H, W].
std::pair<torch::Tensor, torch::Tensor> phi_maps(const torch::Tensor& s);

}  // namespace tension::attribution
