// UMAP's fuzzy simplicial set: the neighbours' membership strengths and their fuzzy union.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <vector>

#include "tension/atlas/umap_stages.h"
#include "tension/core/parallel.h"

// uwot's smooth_knn (a BSD-2-Clause notice in the header) is included here and in no other file: it defines
// non-inline functions (docs/dependencies.md §1). It includes RcppPerpendicular.h, which is GPL and unused here;
// defining its include guard first keeps its contents out.
#define RCPP_PERPENDICULAR
#include <uwot/smooth_knn.h>

namespace tension::atlas::umap_detail {

// Membership strengths by uwot::smooth_knn (umap-learn's smooth_knn_dist: target log2 k, local connectivity 1,
// tolerance 1e-5, 64 bisections, sigma at least 1e-3 of the mean distance), then the fuzzy union
// P + P^T - P o P^T.
Graph fuzzy_simplicial_set(const Neighbors& nb, int64_t n, int threads) {
  const auto k = static_cast<size_t>(nb.k);
  std::vector<double> weights(nb.dist.size());
  std::vector<double> sigmas, rhos;
  std::atomic_size_t search_fails{0};
  const double mean_distances = uwot::mean_average(nb.dist);
  const std::vector<std::size_t> nn_ptr{k};
  const std::vector<double> target{std::log2(static_cast<double>(k))};
  constexpr int64_t kBlock = 1024;
  parallel_items((n + kBlock - 1) / kBlock, threads, [&](int64_t block) {
    uwot::smooth_knn(static_cast<size_t>(block * kBlock), static_cast<size_t>(std::min(n, (block + 1) * kBlock)),
                     nb.dist, nn_ptr, true, target, 1.0, 1e-5, 64, 1e-3, mean_distances, false, weights, sigmas,
                     rhos, search_fails);
  });

  // Each directed membership as (row, col) and as its transpose; sorted, a pair present both ways meets.
  struct Entry {
    uint64_t key;  // row * n + col
    double w;
    bool transposed;
  };
  std::vector<Entry> entries;
  entries.reserve(2 * nb.index.size());
  for (int64_t i = 0; i < n; ++i) {
    for (size_t m = 0; m < k; ++m) {
      const int64_t j = nb.index[i * k + m];
      const double w = weights[i * k + m];
      if (j == i || w <= 0) continue;
      entries.push_back({static_cast<uint64_t>(i) * n + j, w, false});
      entries.push_back({static_cast<uint64_t>(j) * n + i, w, true});
    }
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.key != b.key ? a.key < b.key : a.transposed < b.transposed;
  });
  Graph g;
  g.ptr.assign(static_cast<size_t>(n + 1), 0);
  for (size_t e = 0; e < entries.size();) {
    double p = 0, pt = 0;
    const uint64_t key = entries[e].key;
    for (; e < entries.size() && entries[e].key == key; ++e) (entries[e].transposed ? pt : p) = entries[e].w;
    const auto row = static_cast<unsigned int>(key / n);
    g.head.push_back(row);
    g.tail.push_back(static_cast<unsigned int>(key % n));
    g.weight.push_back(static_cast<float>(p + pt - p * pt));
    ++g.ptr[row + 1];
  }
  for (int64_t i = 0; i < n; ++i) g.ptr[i + 1] += g.ptr[i];
  return g;
}

std::vector<float> prune_for_epochs(Graph& g, int epochs) {
  const float w_max = *std::max_element(g.weight.begin(), g.weight.end());
  const float cut = w_max / static_cast<float>(epochs);
  Graph kept;
  kept.ptr.assign(g.ptr.size(), 0);
  std::vector<float> epochs_per_sample;
  for (size_t e = 0; e < g.head.size(); ++e) {
    if (g.weight[e] < cut) continue;
    kept.head.push_back(g.head[e]);
    kept.tail.push_back(g.tail[e]);
    kept.weight.push_back(g.weight[e]);
    epochs_per_sample.push_back(w_max / g.weight[e]);
    ++kept.ptr[g.head[e] + 1];
  }
  for (size_t i = 1; i < kept.ptr.size(); ++i) kept.ptr[i] += kept.ptr[i - 1];
  g = std::move(kept);
  return epochs_per_sample;
}


}  // namespace tension::atlas::umap_detail
