#include "tension/analysis/kmeans.h"

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
  std::vector<int64_t> pick;
  for (int64_t g = 0; g < groups; ++g) {
    auto members = (grouped.assignment == g).nonzero().flatten();
    pick.push_back(members[torch::randint(members.numel(), {1}, gen).item<int64_t>()].item<int64_t>());
  }
  return unit_rows(centroids.index_select(0, torch::tensor(pick)).to(torch::kFloat));
}

torch::Tensor sample_hidden_vectors(model::Model& model, const data::Dataset& ds, const model::Tap& tap,
                                    const HiddenSampleOptions& opt) {
  data::LoaderOptions lo;
  lo.batch_size = opt.batch_size;
  const size_t n = opt.limit ? std::min(opt.limit, ds.size()) : ds.size();
  for (size_t i = 0; i < n; ++i) lo.indices.push_back(i);
  data::BatchLoader loader(ds, model.input_spec(), lo);
  auto gen = at::detail::createCPUGenerator(opt.seed);
  std::vector<torch::Tensor> rows;
  Progress progress("hidden vectors", n, "img");
  data::Batch batch;
  while (loader.next(batch)) {
    progress.advance(batch.indices.size() + batch.failures.size());
    if (batch.indices.empty()) continue;
    auto act = model.run(batch.x.to(model.device()), {tap}).taps[0].to(torch::kCPU);
    if (act.dim() == 4) {
      const int64_t b = act.size(0), h = act.size(2), w = act.size(3);
      auto pos = torch::randint(h * w, {b}, gen);
      auto flat = act.flatten(2);  // [B, C, H*W]
      act = flat.gather(2, pos.view({b, 1, 1}).expand({b, flat.size(1), 1})).squeeze(2);
    } else {
      act = act.reshape({act.size(0), -1});
    }
    rows.push_back(act);
  }
  progress.finish();
  if (rows.empty()) throw Error("no readable image to sample hidden vectors from");
  return torch::cat(rows);
}

}  // namespace tension::analysis
