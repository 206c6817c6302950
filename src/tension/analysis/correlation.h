#pragma once
// Correlation statistics used by the analyses.
#include <torch/torch.h>

namespace tension::analysis {

// Pearson correlation of two [N] tensors (NaN when either is constant).
double pearson(const torch::Tensor& a, const torch::Tensor& b);

// Ranks 1..N with ties given their average rank.
torch::Tensor average_ranks(const torch::Tensor& x);

// Spearman correlation: Pearson of the average ranks.
double spearman(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace tension::analysis
