#include "tension/viz/feature_scale.h"

#include "tension/core/error.h"
#include "tension/core/moments.h"
#include "tension/core/progress.h"
#include "tension/data/loader.h"

namespace tension::viz {

std::vector<double> feature_sd(model::Model& m, const std::vector<feature::Feature>& features, const data::Dataset& ds,
                               size_t limit, size_t batch_size) {
  std::vector<model::Tap> taps;
  for (const auto& f : features) taps.push_back(feature::feature_tap(m, f.layer));
  data::LoaderOptions lo;
  lo.batch_size = batch_size;
  for (size_t i = 0; i < (limit > 0 ? std::min(limit, ds.size()) : ds.size()); ++i) lo.indices.push_back(i);
  data::BatchLoader loader(ds, m.input_spec(), lo);
  Progress progress("feature scale", loader.num_items(), "img");
  std::vector<std::vector<torch::Tensor>> values(features.size());
  data::Batch b;
  while (loader.next(b)) {
    progress.advance(b.indices.size() + b.failures.size());
    if (b.x.size(0) == 0) continue;
    auto acts = m.run(b.x.to(m.device()), taps, {}).taps;
    for (size_t k = 0; k < features.size(); ++k) values[k].push_back(feature::read_feature(features[k], acts[k]).cpu());
  }
  progress.finish();
  std::vector<double> sd;
  for (auto& v : values) {
    auto all = v.empty() ? torch::empty({0}, torch::kDouble) : torch::cat(v).to(torch::kDouble).contiguous();
    if (all.numel() < 2) throw Error("the feature scale needs at least two readable images in " + ds.describe());
    const double* fv = all.data_ptr<double>();
    sd.push_back(sample_sd(std::vector<double>(fv, fv + all.numel())));
  }
  return sd;
}

}  // namespace tension::viz
