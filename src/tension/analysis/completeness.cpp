#include "tension/analysis/completeness.h"

#include <algorithm>

#include "tension/analysis/correlation.h"
#include "tension/attribution/attributor.h"
#include "tension/core/error.h"
#include "tension/core/progress.h"
#include "tension/data/loader.h"

namespace tension::analysis {

std::vector<std::string> relu_layers(const model::Model& m) {
  std::vector<std::string> out;
  for (const auto& l : m.layers()) {
    if (l.kind.find("ReLU") != std::string::npos) out.push_back(l.name);
  }
  return out;
}

namespace {

// Random distinct units of the last layer, seeded: the paper's "20 random logits".
std::vector<std::string> random_logits(model::Model& m, int k, uint64_t seed) {
  const auto& last = m.layers().back().name;
  model::RunOptions ro;
  auto probe = torch::zeros({1, m.input_spec().channels, m.input_spec().height, m.input_spec().width});
  auto units = m.run(probe.to(m.device()), {{last, model::TapSide::Output}}, ro).taps[0].size(1);
  auto gen = at::detail::createCPUGenerator(seed);
  auto perm = torch::randperm(units, gen);
  std::vector<std::string> out;
  for (int64_t i = 0; i < std::min<int64_t>(k, units); ++i) {
    out.push_back(last + ":" + std::to_string(perm[i].item<int64_t>()));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

CompletenessResult completeness(model::Model& m, const data::Dataset& ds, const CompletenessOptions& opt) {
  CompletenessResult res;
  res.model = m.name();
  res.features = opt.features.empty() ? random_logits(m, opt.logits, opt.seed) : opt.features;
  auto relus = relu_layers(m);
  std::vector<std::string> layers = opt.layers;
  if (layers.empty()) {
    if (relus.empty()) throw Error(m.name() + " has no ReLU modules: name the attribution layers with --layer");
    layers.push_back(attribution::kInputLayer);
    layers.insert(layers.end(), relus.begin(), relus.end());
  }
  attribution::AttributorOptions ao;
  for (const auto& f : res.features) ao.features.push_back(feature::parse_feature(f));
  ao.layers = layers;
  ao.find_footprints = false;
  attribution::Attributor attributor(m, ao);

  const size_t nf = ao.features.size(), nl = layers.size();
  std::vector<std::vector<torch::Tensor>> fv(nf), e(nf * nl);
  data::LoaderOptions lo;
  lo.batch_size = opt.batch_size;
  if (opt.limit) {
    for (size_t i = 0; i < std::min(opt.limit, ds.size()); ++i) lo.indices.push_back(i);
  }
  data::BatchLoader loader(ds, m.input_spec(), lo);
  Progress bar("completeness " + m.name(), loader.num_items(), "img");
  data::Batch b;
  while (loader.next(b)) {
    res.unreadable += b.failures.size();
    bar.advance(b.indices.size() + b.failures.size());
    if (b.indices.empty()) continue;
    auto out = attributor.attribute(b.x.to(m.device()));
    for (size_t k = 0; k < nf; ++k) {
      fv[k].push_back(out[k].fv.cpu());
      for (size_t l = 0; l < nl; ++l) e[k * nl + l].push_back(out[k].layers[l].totals.e.cpu());
    }
    res.images += b.indices.size();
  }
  bar.finish();
  if (res.images < 2) throw Error("completeness needs at least 2 readable images");

  for (size_t l = 0; l < nl; ++l) {
    CompletenessLayer cl;
    cl.layer = layers[l];
    auto it = std::find(relus.begin(), relus.end(), layers[l]);
    cl.depth = it == relus.end() ? 0.0 : static_cast<double>(it - relus.begin() + 1) / relus.size();
    for (size_t k = 0; k < nf; ++k) {
      auto f = torch::cat(fv[k]), el = torch::cat(e[k * nl + l]);
      double p = pearson(f, el);
      cl.pearson_per_feature.push_back(p);
      cl.pearson += p / nf;
      cl.spearman += spearman(f, el) / nf;
      cl.mean_abs_diff += (f - el).abs().mean().item<double>() / nf;
    }
    res.layers.push_back(cl);
  }
  std::stable_sort(res.layers.begin(), res.layers.end(),
                   [](const CompletenessLayer& a, const CompletenessLayer& b) { return a.depth < b.depth; });
  return res;
}

}  // namespace tension::analysis
