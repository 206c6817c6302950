#include "tension/analysis/kmeans.h"

#include "tension/core/comm.h"
#include "tension/core/comm_tensors.h"
#include "tension/core/error.h"
#include "tension/core/progress.h"
#include "tension/data/loader.h"

namespace tension::analysis {

namespace {

torch::Tensor unit_rows(const torch::Tensor& x) {
  return x / x.norm(2, 1, true).clamp_min(1e-12);
}

// k-means++ on cosine distance 1 - cos.
torch::Tensor seed_centroids(const torch::Tensor& u, int64_t k, torch::Generator& gen) {
  const int64_t n = u.size(0);
  std::vector<int64_t> chosen{torch::randint(n, {1}, gen).item<int64_t>()};
  auto dist = (1 - u.matmul(u[chosen[0]])).clamp_min(0);
  for (int64_t c = 1; c < k; ++c) {
    auto total = dist.sum().item<double>();
    int64_t next = total > 0 ? torch::multinomial(dist / total, 1, false, gen).item<int64_t>()
                             : torch::randint(n, {1}, gen).item<int64_t>();
    chosen.push_back(next);
    dist = torch::minimum(dist, (1 - u.matmul(u[next])).clamp_min(0));
  }
  return u.index_select(0, torch::tensor(chosen));
}

}  // namespace

KMeansResult spherical_kmeans(const torch::Tensor& x, const KMeansOptions& opt) {
  if (x.dim() != 2) throw Error("k-means takes [n, d] vectors, got " + c10::str(x.sizes()));
  if (opt.k < 1 || opt.k > x.size(0)) {
    throw Error("k-means: k = " + std::to_string(opt.k) + " needs 1 <= k <= the number of vectors (" +
                std::to_string(x.size(0)) + ")");
  }
  auto gen = at::detail::createCPUGenerator(opt.seed);
  auto u = unit_rows(x.to(torch::kCPU, torch::kFloat));
  KMeansResult r;
  r.centroids = seed_centroids(u, opt.k, gen);
  r.assignment = torch::full({u.size(0)}, -1, torch::kLong);
  for (r.iterations = 0; r.iterations < opt.iterations; ++r.iterations) {
    auto sim = u.matmul(r.centroids.t());
    auto [best, assign] = sim.max(1);
    if (torch::equal(assign, r.assignment)) break;
    r.assignment = assign;
    auto sums = torch::zeros_like(r.centroids).index_add_(0, assign, u);
    auto counts = torch::bincount(assign, {}, opt.k);
    auto empty = (counts == 0).nonzero().flatten();
    if (empty.numel() > 0) {
      // The rows worst served by their centroid re-seed the empty clusters.
      auto worst = std::get<1>(best.topk(empty.numel(), 0, false));
      sums.index_copy_(0, empty, u.index_select(0, worst));
    }
    r.centroids = unit_rows(sums);
  }
  return r;
}

torch::Tensor spread_directions(const torch::Tensor& centroids, int64_t groups, uint64_t seed) {
  KMeansOptions o;
  o.k = groups;
  o.seed = seed;
  auto grouped = spherical_kmeans(centroids, o);
  auto gen = at::detail::createCPUGenerator(seed + 1);
  std::vector<int64_t> pick(static_cast<size_t>(groups), -1);
  auto taken = torch::zeros({centroids.size(0)}, torch::kBool);
  for (int64_t g = 0; g < groups; ++g) {
    auto members = (grouped.assignment == g).nonzero().flatten();
    if (members.numel() == 0) continue;
    pick[g] = members[torch::randint(members.numel(), {1}, gen).item<int64_t>()].item<int64_t>();
    taken[pick[g]] = true;
  }
  // Centroids that coincide (fewer distinct directions than groups) leave groups without members: such a group
  // takes the untaken centroid nearest its centre, so the pick still holds `groups` different centroids.
  auto unit = unit_rows(centroids.to(torch::kFloat));
  for (int64_t g = 0; g < groups; ++g) {
    if (pick[g] >= 0) continue;
    auto sim = unit.matmul(grouped.centroids[g].to(torch::kFloat)).masked_fill(taken, -2);
    pick[g] = sim.argmax().item<int64_t>();
    taken[pick[g]] = true;
  }
  return unit.index_select(0, torch::tensor(pick));
}

torch::Tensor sample_hidden_vectors(model::Model& model, const data::Dataset& ds, const model::Tap& tap,
                                    const HiddenSampleOptions& opt) {
  const size_t n = opt.limit ? std::min(opt.limit, ds.size()) : ds.size();
  // Batch b draws its positions from seed + b, so the sample is the same whichever process takes the batch: in an
  // MPI job each rank samples its share of the batches and rank 0 gathers them back in order.
  auto share = comm::share_of(n, opt.batch_size);
  const auto& batch_numbers = share.batches;
  data::LoaderOptions lo;
  lo.batch_size = opt.batch_size;
  lo.indices = std::move(share.items);
  std::vector<comm::BatchTensors> parts;  // per batch of this rank, its vectors
  Progress progress("hidden vectors", n, "img", Progress::Scope::job);
  if (!lo.indices.empty()) {
    data::BatchLoader loader(ds, model.input_spec(), lo);
    data::Batch batch;
    for (size_t k = 0; loader.next(batch); ++k) {
      progress.advance(batch.indices.size() + batch.failures.size());
      if (batch.indices.empty()) continue;
      auto gen = at::detail::createCPUGenerator(opt.seed + static_cast<uint64_t>(batch_numbers[k]));
      auto act = model.run(batch.x.to(model.device()), {tap}).taps[0].to(torch::kCPU);
      if (act.dim() == 4) {
        const int64_t b = act.size(0), h = act.size(2), w = act.size(3);
        auto pos = torch::randint(h * w, {b}, gen);
        auto flat = act.flatten(2);  // [B, C, H*W]
        act = flat.gather(2, pos.view({b, 1, 1}).expand({b, flat.size(1), 1})).squeeze(2);
      } else {
        act = act.reshape({act.size(0), -1});
      }
      parts.push_back({batch_numbers[k], {act}});
    }
  }
  progress.finish();
  const auto batches = comm::gather_batches(parts);
  if (!comm::leader()) return {};
  if (batches.empty()) throw Error("no readable image to sample hidden vectors from");
  std::vector<torch::Tensor> rows;
  for (const auto& b : batches) rows.push_back(b.tensors[0]);
  return torch::cat(rows);
}

}  // namespace tension::analysis
