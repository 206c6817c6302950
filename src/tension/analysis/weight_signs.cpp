#include "tension/analysis/weight_signs.h"

#include "tension/core/error.h"

namespace tension::analysis {

WeightSigns weight_signs(const model::Model& m, int bins, double range) {
  WeightSigns out;
  out.model = m.name();
  std::vector<torch::Tensor> standardised;
  int64_t negative = 0, total = 0;
  for (const auto& [name, p] : m.named_parameters()) {
    bool kernel = p.dim() >= 2 && name.size() >= 6 && name.compare(name.size() - 6, 6, "weight") == 0;
    if (!kernel) continue;
    auto w = p.detach().to(torch::kCPU, torch::kFloat64).flatten();
    WeightLayerStats s;
    s.name = name;
    s.count = w.numel();
    int64_t neg = (w < 0).sum().item<int64_t>();
    s.fraction_negative = static_cast<double>(neg) / s.count;
    s.mean = w.mean().item<double>();
    s.std = w.numel() > 1 ? w.std().item<double>() : 0.0;
    negative += neg;
    total += s.count;
    // Scaled by the sd only: subtracting the mean would move the very share of negative weights Fig. 12 shows.
    if (s.std > 0) standardised.push_back(w / s.std);
    out.layers.push_back(s);
  }
  if (out.layers.empty()) throw Error("model " + m.name() + " has no convolution or linear weights");
  out.fraction_negative = static_cast<double>(negative) / total;
  auto all = torch::cat(standardised);
  auto hist = torch::histc(all, bins, -range, range);
  const double width = 2 * range / bins;
  for (int b = 0; b < bins; ++b) {
    out.bin_centres.push_back(-range + (b + 0.5) * width);
    out.density.push_back(hist[b].item<double>() / (all.numel() * width));
  }
  return out;
}

}  // namespace tension::analysis
