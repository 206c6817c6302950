#include "tension/toy/domain_loss.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace tension::toy {

torch::Tensor exhaustive_domain(const ToyTask& task) {
  task.validate();
  const bool is_abs = task.kind == TaskKind::Abs;
  const int64_t base = is_abs ? 3 : 2, d = task.inputs();
  int64_t n = 1;
  for (int64_t j = 0; j < d; ++j) n *= base;
  const float values[3] = {0.f, 1.f, -1.f};
  auto x = torch::empty({n, d});
  auto a = x.accessor<float, 2>();
  for (int64_t r = 0; r < n; ++r) {
    int64_t code = r;
    for (int64_t j = 0; j < d; ++j, code /= base) a[r][j] = values[code % base];
  }
  return x;
}

DomainLosses domain_losses(const ToyTask& task, const ToyModel& m) {
  auto x = exhaustive_domain(task);
  const int64_t n = x.size(0);
  auto f = torch::empty({n, task.features});
  auto xa = x.accessor<float, 2>();
  auto fa = f.accessor<float, 2>();
  for (int64_t r = 0; r < n; ++r) task.target(&xa[r][0], &fa[r][0]);
  auto pred = toy_forward(m, x).to(torch::kFloat64);
  auto imp = torch::tensor(task.importance(), torch::kFloat64);
  DomainLosses d;
  d.loss = ((pred - f.to(torch::kFloat64)).square() * imp).sum(1);
  d.active = (f != 0).sum(1).to(torch::kInt64);
  return d;
}

namespace {
double quantile(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}
}  // namespace

std::vector<LossBox> loss_boxes(const DomainLosses& d) {
  auto loss = d.loss.contiguous();
  auto active = d.active.contiguous();
  const int64_t max_active = active.numel() ? active.max().item<int64_t>() : -1;
  std::vector<LossBox> out;
  for (int64_t k = 0; k <= max_active; ++k) {
    auto sel = loss.index({active == k});
    if (sel.numel() == 0) continue;
    std::vector<double> v(sel.data_ptr<double>(), sel.data_ptr<double>() + sel.numel());
    std::sort(v.begin(), v.end());
    LossBox b;
    b.active = k;
    b.count = static_cast<int64_t>(v.size());
    b.min = v.front();
    b.max = v.back();
    b.q1 = quantile(v, 0.25);
    b.median = quantile(v, 0.5);
    b.q3 = quantile(v, 0.75);
    b.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
    const double iqr = b.q3 - b.q1, lo = b.q1 - 1.5 * iqr, hi = b.q3 + 1.5 * iqr;
    b.whisker_low = *std::lower_bound(v.begin(), v.end(), lo);
    b.whisker_high = *(std::upper_bound(v.begin(), v.end(), hi) - 1);
    for (double x : v) {
      if (x < lo || x > hi) b.outliers.push_back(x);
    }
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace tension::toy
