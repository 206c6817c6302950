#include "tension/toy/attribution_matrix.h"

#include <algorithm>
#include <limits>

#include "tension/attribution/terms.h"

namespace tension::toy {

Probes probe_inputs(const ToyTask& task) {
  task.validate();
  const int n = task.features;
  Probes p;
  p.x = torch::zeros({2 * n, task.inputs()});
  auto a = p.x.accessor<float, 2>();
  for (int half = 0; half < 2; ++half) {
    for (int i = 0; i < n; ++i) {
      const int row = half * n + i;
      const std::string k = std::to_string(i + 1);
      if (task.kind == TaskKind::Abs) {
        a[row][i] = half ? -1.f : 1.f;
        p.names.push_back((half ? "-e" : "+e") + k);
      } else {
        a[row][2 * i] = 1.f;
        a[row][2 * i + 1] = half ? 1.f : 0.f;
        p.names.push_back((half ? "[1,1]_" : "[1,0]_") + k);
      }
      p.feature.push_back(i);
    }
  }
  return p;
}

AttributionMatrix attribution_matrix(const ToyTask& task, const ToyModel& m) {
  AttributionMatrix a;
  a.probes = probe_inputs(task);
  auto h = hidden_layer(m, a.probes.x);
  a.f_pre = output_pre(m, h);
  const int64_t P = h.size(0), outputs = m.w2.size(0);
  a.e_pos = torch::empty({P, outputs});
  a.e_neg = torch::empty({P, outputs});
  for (int64_t j = 0; j < outputs; ++j) {
    // d f_j / d h = row j of W2, the same for every probe.
    auto s = attribution::layer_attribution(m.w2[j].expand_as(h), h);
    auto t = attribution::attribution_totals(s);
    a.e_pos.select(1, j).copy_(t.e_pos);
    a.e_neg.select(1, j).copy_(t.e_neg);
  }
  return a;
}

std::pair<torch::Tensor, torch::Tensor> normalise_columns(const AttributionMatrix& a) {
  auto scale = torch::maximum(a.e_pos.amax(0), a.e_neg.amax(0));
  scale = torch::where(scale > 0, scale, torch::ones_like(scale));
  return {a.e_pos / scale, a.e_neg / scale};
}

DiagonalMass diagonal_mass(const AttributionMatrix& a) {
  auto l1 = (a.e_pos + a.e_neg).to(torch::kFloat64);
  auto on = torch::zeros_like(l1, torch::kBool);
  for (size_t i = 0; i < a.probes.feature.size(); ++i) on[static_cast<int64_t>(i)][a.probes.feature[i]] = true;
  DiagonalMass d;
  d.diagonal = l1.index({on}).sum().item<double>();
  d.off_diagonal = l1.index({~on}).sum().item<double>();
  d.ratio = d.diagonal > 0 ? d.off_diagonal / d.diagonal : std::numeric_limits<double>::infinity();
  return d;
}

std::vector<double> diagonal_tension(const AttributionMatrix& a) {
  auto pos = a.e_pos.to(torch::kFloat64).contiguous(), neg = a.e_neg.to(torch::kFloat64).contiguous();
  std::vector<double> out;
  for (size_t i = 0; i < a.probes.feature.size(); ++i) {
    const double p = pos[static_cast<int64_t>(i)][a.probes.feature[i]].item<double>();
    const double n = neg[static_cast<int64_t>(i)][a.probes.feature[i]].item<double>();
    out.push_back(std::max(p, n) > 0 ? std::min(p, n) / std::max(p, n) : 0.0);
  }
  return out;
}

}  // namespace tension::toy
