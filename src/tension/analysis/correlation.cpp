#include "tension/analysis/correlation.h"

#include <limits>

#include "tension/core/error.h"

namespace tension::analysis {

double pearson(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.numel() != b.numel() || a.numel() < 2) throw Error("pearson: need two series of equal length >= 2");
  auto x = a.to(torch::kFloat64).flatten(), y = b.to(torch::kFloat64).flatten();
  auto dx = x - x.mean(), dy = y - y.mean();
  double den = std::sqrt((dx * dx).sum().item<double>() * (dy * dy).sum().item<double>());
  if (den == 0) return std::numeric_limits<double>::quiet_NaN();
  return (dx * dy).sum().item<double>() / den;
}

torch::Tensor average_ranks(const torch::Tensor& x) {
  auto v = x.to(torch::kFloat64).flatten().contiguous();
  const int64_t n = v.numel();
  auto order = v.argsort();
  auto sorted = v.index_select(0, order);
  auto ranks = torch::empty({n}, torch::kFloat64);
  auto s = sorted.accessor<double, 1>();
  auto o = order.accessor<int64_t, 1>();
  auto r = ranks.accessor<double, 1>();
  for (int64_t i = 0; i < n;) {
    int64_t j = i;
    while (j + 1 < n && s[j + 1] == s[i]) ++j;
    double avg = (i + j) / 2.0 + 1;  // ranks i+1 .. j+1
    for (int64_t k = i; k <= j; ++k) r[o[k]] = avg;
    i = j + 1;
  }
  return ranks;
}

double spearman(const torch::Tensor& a, const torch::Tensor& b) {
  return pearson(average_ranks(a), average_ranks(b));
}

}  // namespace tension::analysis
