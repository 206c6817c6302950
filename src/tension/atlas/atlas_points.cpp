#include "tension/atlas/atlas_points.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>

#include "tension/core/error.h"
#include "tension/core/progress.h"
#include "tension/data/loader.h"

namespace tension::atlas {

AtlasPoints attribute_points(attribution::Attributor& attributor, const data::Dataset& ds,
                             const std::vector<int64_t>& images, const PointsOptions& opt) {
  const auto& ao = attributor.options();
  if (ao.features.size() != 1 || ao.layers.size() != 1 || !ao.keep_s) {
    throw Error("the atlas's attribution pass needs one feature, one layer and S kept");
  }
  if (images.empty()) throw Error("no images to place in the atlas");
  data::LoaderOptions lo;
  lo.batch_size = opt.batch_size;
  lo.threads = opt.decode_threads;
  for (int64_t i : images) lo.indices.push_back(static_cast<size_t>(i));
  data::BatchLoader loader(ds, attributor.model().input_spec(), lo);
  std::optional<Progress> progress;
  if (opt.progress) progress.emplace("atlas attribution", images.size(), "img");
  AtlasPoints p;
  std::vector<torch::Tensor> fv, s;
  data::Batch b;
  while (loader.next(b)) {
    for (const auto& f : b.failures) spdlog::warn("skipping unreadable image {} ({}): {}", f.index, f.id, f.reason);
    if (b.x.size(0) > 0) {
      auto res = attributor.attribute(b.x.to(attributor.model().device())).front();
      fv.push_back(res.fv.cpu());
      s.push_back(res.layers.front().s.cpu());
      for (size_t i : b.indices) p.images.push_back(static_cast<int64_t>(i));
    }
    if (progress) progress->advance(b.indices.size() + b.failures.size());
  }
  if (progress) progress->finish();
  if (p.images.empty()) throw Error("none of the atlas's images could be read");
  p.fv = torch::cat(fv);
  p.s = torch::cat(s);
  if (p.s.dim() != 4) throw Error("the atlas needs an attribution layer with positions [C, H, W]");
  p.vectors = p.s.sum(std::vector<int64_t>{2, 3});
  return p;
}

}  // namespace tension::atlas
