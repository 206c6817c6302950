#include "tension/atlas/atlas_points.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>

#include "tension/core/comm.h"
#include "tension/core/comm_tensors.h"
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
  // In an MPI job each rank attributes its share of the batches; rank 0 gathers them back in order.
  const auto share = comm::share_of(images.size(), opt.batch_size);
  const auto& batch_numbers = share.batches;
  data::LoaderOptions lo;
  lo.batch_size = opt.batch_size;
  lo.threads = opt.decode_threads;
  for (size_t k : share.items) lo.indices.push_back(static_cast<size_t>(images[k]));
  std::optional<Progress> progress;
  if (opt.progress) progress.emplace("atlas attribution", images.size(), "img", Progress::Scope::job);
  // Per batch of this rank with a readable image: those images, their f_v and their S.
  std::vector<comm::BatchTensors> parts;
  if (!lo.indices.empty()) {
    data::BatchLoader loader(ds, attributor.model().input_spec(), lo);
    data::Batch b;
    for (size_t k = 0; loader.next(b); ++k) {
      for (const auto& f : b.failures) spdlog::warn("skipping unreadable image {} ({}): {}", f.index, f.id, f.reason);
      if (b.x.size(0) > 0) {
        auto res = attributor.attribute(b.x.to(attributor.model().device())).front();
        const std::vector<int64_t> readable(b.indices.begin(), b.indices.end());
        parts.push_back({batch_numbers[k],
                         {torch::tensor(readable, torch::kLong), res.fv.cpu(), res.layers.front().s.cpu()}});
      }
      if (progress) progress->advance(b.indices.size() + b.failures.size());
    }
  }
  if (progress) progress->finish();
  const auto batches = comm::gather_batches(parts);
  AtlasPoints p;
  if (!comm::leader()) return p;
  std::vector<torch::Tensor> fv, s;
  for (const auto& b : batches) {
    const auto& readable = b.tensors[0];
    p.images.insert(p.images.end(), readable.data_ptr<int64_t>(), readable.data_ptr<int64_t>() + readable.numel());
    fv.push_back(b.tensors[1]);
    s.push_back(b.tensors[2]);
  }
  if (p.images.empty()) throw Error("none of the atlas's images could be read");
  p.fv = torch::cat(fv);
  p.s = torch::cat(s);
  if (p.s.dim() != 4) throw Error("the atlas needs an attribution layer with positions [C, H, W]");
  p.vectors = p.s.sum(std::vector<int64_t>{2, 3});
  return p;
}

}  // namespace tension::atlas
