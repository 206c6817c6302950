#include "tension/analysis/completeness.h"

#include <algorithm>
#include <map>
#include <set>

#include "tension/analysis/correlation.h"
#include "tension/attribution/attributor.h"
#include "tension/core/error.h"
#include "tension/core/progress.h"
#include "tension/data/loader.h"
#include "tension/feature/feature.h"
#include "tension/model/graph_cuts.h"

namespace tension::analysis {

namespace {

// Random distinct units of the last layer, seeded: the paper's "20 random logits".
std::vector<std::string> random_logits(model::Model& m, int k, uint64_t seed) {
  const auto& last = m.layers().back().name;
  model::RunOptions ro;
  auto probe = torch::zeros({1, m.input_spec().channels, m.input_spec().height, m.input_spec().width});
  auto units = m.run(probe.to(m.device()), {{last, model::TapSide::Output}}, ro).taps[0].size(1);
  std::vector<std::string> out;
  for (int64_t u : feature::random_units(units, k, seed)) out.push_back(last + ":" + std::to_string(u));
  std::sort(out.begin(), out.end());
  return out;
}

// Depth and cut status of each attribution layer: a layer is a cut only when it is one for every feature.
struct LayerPlace {
  double depth = 0;
  bool upstream = true, cut = true, post_relu = false;
  std::string same_as;
};

// Keyed by tap ("LAYER" or "LAYER:in"); `named` are the user's attribution layers.
std::map<std::string, LayerPlace> layer_places(model::Model& m, const std::vector<feature::Feature>& features,
                                               const std::vector<std::string>& named) {
  std::vector<model::Tap> extra;
  for (const auto& l : named) {
    if (l != attribution::kInputLayer) extra.push_back(model::parse_tap(l));
  }
  std::map<std::string, LayerPlace> places;
  std::set<std::string> seen;
  for (const auto& f : features) {
    auto target = feature::feature_tap(m, f.layer);
    if (!seen.insert(target.str()).second) continue;
    auto cuts = model::analyse_cuts(m, &target, extra);
    for (const auto& t : cuts.taps) {
      LayerPlace p{model::relu_depth(t, cuts), t.upstream, t.cut, t.post_relu, t.same_as};
      auto [it, fresh] = places.emplace(t.tap.str(), p);
      if (fresh) continue;
      it->second.cut = it->second.cut && t.cut;
      it->second.upstream = it->second.upstream && t.upstream;
    }
  }
  return places;
}

}  // namespace

CompletenessResult completeness(model::Model& m, const data::Dataset& ds, const CompletenessOptions& opt) {
  CompletenessResult res;
  res.model = m.name();
  res.features = opt.features.empty() ? random_logits(m, opt.logits, opt.seed) : opt.features;
  attribution::AttributorOptions ao;
  for (const auto& f : res.features) ao.features.push_back(feature::parse_feature(f));
  const auto places = layer_places(m, ao.features, opt.layers);
  std::vector<std::string> layers = opt.layers;
  if (layers.empty()) {
    layers.push_back(attribution::kInputLayer);
    for (const auto& l : m.layers()) {  // model order, so that equal depths keep it
      const auto& p = places.at(l.name);
      if (p.upstream && p.post_relu && p.same_as.empty() && (p.cut || opt.all_relus)) layers.push_back(l.name);
    }
    if (layers.size() == 1) {
      throw Error(m.name() + " has no post-ReLU layer before the features: name the attribution layers with --layer");
    }
  }
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
    auto it = places.find(layers[l]);
    if (it != places.end() && layers[l] != attribution::kInputLayer) {
      cl.depth = it->second.depth;
      cl.cut = it->second.cut;
    }
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
