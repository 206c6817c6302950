// UMAP's public entry: the stages of umap_stages.h in order, exact_neighbors, and the layout's normalisation.
#include "tension/atlas/umap.h"

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "tension/atlas/umap_stages.h"
#include "tension/core/error.h"
#include "tension/core/parallel.h"
#include "tension/core/percentile.h"

namespace tension::atlas {
namespace {

void check_options(int64_t n, int64_t dim, const UmapOptions& opt) {
  if (dim < 1) throw Error("UMAP input has " + std::to_string(dim) + " columns; it needs at least 1");
  if (opt.neighbors < 2) throw Error("UMAP needs at least 2 neighbours, got " + std::to_string(opt.neighbors));
  if (n <= opt.neighbors)
    throw Error("UMAP needs more points than neighbours: " + std::to_string(n) + " points, " +
                std::to_string(opt.neighbors) + " neighbours");
  if (n > std::numeric_limits<unsigned int>::max()) throw Error("UMAP input has too many points");
  if (!(opt.spread > 0) || !(opt.min_dist >= 0) || !(opt.min_dist <= opt.spread))
    throw Error("UMAP needs 0 <= min_dist <= spread and spread > 0, got min_dist " + std::to_string(opt.min_dist) +
                ", spread " + std::to_string(opt.spread));
  if (opt.epochs < 0) throw Error("UMAP epochs must be >= 0 (0: the default), got " + std::to_string(opt.epochs));
  if (!(opt.negative_sample_rate >= 0) || !(opt.learning_rate > 0) || !(opt.repulsion_strength >= 0))
    throw Error("UMAP needs negative_sample_rate >= 0, learning_rate > 0 and repulsion_strength >= 0");
}

}  // namespace

using namespace umap_detail;

std::vector<int64_t> exact_neighbors(const float* data, int64_t n, int64_t dim, int k, bool cosine, int threads) {
  if (dim < 1 || k < 1 || n <= k)
    throw Error("exact_neighbors needs dim >= 1 and 1 <= k < n, got n " + std::to_string(n) + ", dim " +
                std::to_string(dim) + ", k " + std::to_string(k));
  const auto nb = knn_exact(prepare_rows(data, n, dim, cosine), k, cosine, thread_count(threads));
  std::vector<int64_t> out(static_cast<size_t>(n * k));
  for (int64_t i = 0; i < n; ++i)
    for (int m = 0; m < k; ++m) out[i * k + m] = nb.index[i * nb.k + 1 + m];
  return out;
}

UmapLayout umap_layout(const float* data, int64_t n, int64_t dim, const UmapOptions& opt,
                       const UmapProgress& progress) {
  check_options(n, dim, opt);
  const int threads = thread_count(opt.threads);
  const Rows rows = prepare_rows(data, n, dim, opt.cosine);

  UmapLayout out;
  out.epochs = opt.epochs > 0 ? opt.epochs : (n <= 10000 ? 500 : 200);
  out.exact_knn = n <= opt.exact_knn_max;
  if (progress) progress("neighbors", 0, 1);
  const Neighbors nb = out.exact_knn ? knn_exact(rows, opt.neighbors - 1, opt.cosine, threads)
                                     : knn_hnsw(rows, opt.neighbors - 1, opt.cosine, threads, opt.seed);
  if (progress) progress("neighbors", 1, 1);

  Graph graph = fuzzy_simplicial_set(nb, n, threads);
  const std::vector<float> epochs_per_sample = prune_for_epochs(graph, out.epochs);
  out.edges = static_cast<int64_t>(graph.head.size());

  const auto ab = find_ab_params(opt.min_dist, opt.spread);
  out.a = ab.a;
  out.b = ab.b;
  out.xy = initial_layout(rows, opt.seed, threads);
  optimize_layout(out.xy, graph, epochs_per_sample, out.epochs, ab, opt, threads, progress);
  return out;
}

std::vector<float> normalize_layout(const std::vector<float>& xy) {
  if (xy.empty() || xy.size() % 2 != 0) throw Error("normalize_layout needs an [n, 2] layout with n >= 1");
  const size_t n = xy.size() / 2;
  std::vector<float> out(xy.size());
  for (size_t axis = 0; axis < 2; ++axis) {
    std::vector<float> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = xy[i * 2 + axis];
    double lo = percentile(v, 1), hi = percentile(v, 99);
    lo -= 0.1 * (hi - lo);
    hi += 0.1 * (hi - lo);  // the paper code's quirk: this margin uses the already widened minimum
    double cmin = std::numeric_limits<double>::infinity(), cmax = -cmin;
    for (float x : v) {
      const double c = std::clamp(static_cast<double>(x), lo, hi);
      cmin = std::min(cmin, c);
      cmax = std::max(cmax, c);
    }
    if (!(cmax > cmin)) throw Error("normalize_layout: axis " + std::to_string(axis) + " has no extent");
    for (size_t i = 0; i < n; ++i)
      out[i * 2 + axis] = static_cast<float>((std::clamp(static_cast<double>(v[i]), lo, hi) - cmin) / (cmax - cmin));
  }
  return out;
}

}  // namespace tension::atlas
