// UMAP's nearest neighbours: exact by the distance kernels, or approximate by hnswlib.
#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "tension/atlas/umap_stages.h"
#include "tension/core/error.h"
#include "tension/core/parallel.h"

// hnswlib (Apache-2.0) is included here and in no other file: it defines non-inline functions
// (docs/dependencies.md §2).
#include <hnswlib/hnswlib.h>

namespace tension::atlas::umap_detail {
namespace {

double to_distance(float raw, bool cosine) {
  return cosine ? std::max(0.0, 1.0 - static_cast<double>(raw)) : std::sqrt(std::max(0.0f, raw));
}

// hnswlib's own spaces pick their SIMD width from compile-time flags; this one uses tension's (umap_distances.cpp).
class PaddedSpace : public hnswlib::SpaceInterface<float> {
 public:
  PaddedSpace(int64_t dp, bool cosine) : dp_(dp), cosine_(cosine) {}
  size_t get_data_size() override { return static_cast<size_t>(dp_) * sizeof(float); }
  hnswlib::DISTFUNC<float> get_dist_func() override { return cosine_ ? hnsw_ip_distance : hnsw_l2_distance; }
  void* get_dist_func_param() override { return &dp_; }

 private:
  int64_t dp_;
  bool cosine_;
};

}  // namespace

// Exact: distance tiles of 64 query rows x 256 candidate rows, each row keeping its `others` best by
// (distance, index).
Neighbors knn_exact(const Rows& x, int others, bool cosine, int threads) {
  constexpr int64_t kQuery = 64, kCandidates = 256;
  Neighbors nb;
  nb.k = others + 1;
  nb.index.resize(static_cast<size_t>(x.n * nb.k));
  nb.dist.resize(nb.index.size());
  const int64_t blocks = (x.n + kQuery - 1) / kQuery;
  parallel_items(blocks, threads, [&](int64_t block) {
    const int64_t q0 = block * kQuery, nq = std::min(kQuery, x.n - q0);
    std::vector<float> raw(static_cast<size_t>(kQuery * kCandidates));
    // per query row: `others` (key, index) pairs sorted by key; key is the kernel's output, monotone in distance
    std::vector<float> best_key(static_cast<size_t>(kQuery * others));
    std::vector<int64_t> best_index(best_key.size());
    std::vector<int> count(kQuery, 0);
    for (int64_t c0 = 0; c0 < x.n; c0 += kCandidates) {
      const int64_t nc = std::min(kCandidates, x.n - c0);
      if (cosine)
        dot_tile(x.row(q0), nq, x.row(c0), nc, x.dp, raw.data());
      else
        sqdist_tile(x.row(q0), nq, x.row(c0), nc, x.dp, raw.data());
      for (int64_t q = 0; q < nq; ++q) {
        float* key = best_key.data() + q * others;
        int64_t* idx = best_index.data() + q * others;
        int& m = count[q];
        for (int64_t c = 0; c < nc; ++c) {
          const int64_t j = c0 + c;
          if (j == q0 + q) continue;
          const float kj = cosine ? -raw[q * nc + c] : raw[q * nc + c];
          if (m == others && !(kj < key[others - 1])) continue;  // candidates come in index order: ties keep the first
          int pos = m == others ? others - 1 : m++;
          for (; pos > 0 && key[pos - 1] > kj; --pos) {
            key[pos] = key[pos - 1];
            idx[pos] = idx[pos - 1];
          }
          key[pos] = kj;
          idx[pos] = j;
        }
      }
    }
    for (int64_t q = 0; q < nq; ++q) {
      const int64_t i = q0 + q;
      nb.index[i * nb.k] = i;
      nb.dist[i * nb.k] = 0;
      for (int m = 0; m < others; ++m) {
        const float kj = best_key[q * others + m];
        nb.index[i * nb.k + 1 + m] = best_index[q * others + m];
        nb.dist[i * nb.k + 1 + m] = to_distance(cosine ? -kj : kj, cosine);
      }
    }
  });
  return nb;
}

// Approximate, by HNSW (M 16, ef_construction 200, ef max(64, k)). The graph is built on one thread, in index
// order, because hnswlib's concurrent insertion makes the graph (and so the neighbours) depend on timing; the
// searches, which only read it, run in parallel.
Neighbors knn_hnsw(const Rows& x, int others, bool cosine, int threads, uint64_t seed) {
  PaddedSpace space(x.dp, cosine);
  hnswlib::HierarchicalNSW<float> index(&space, static_cast<size_t>(x.n), 16, 200, static_cast<size_t>(seed));
  for (int64_t i = 0; i < x.n; ++i) index.addPoint(x.row(i), static_cast<hnswlib::labeltype>(i));
  index.setEf(static_cast<size_t>(std::max(64, others + 1)));
  Neighbors nb;
  nb.k = others + 1;
  nb.index.resize(static_cast<size_t>(x.n * nb.k));
  nb.dist.resize(nb.index.size());
  constexpr int64_t kBlock = 256;
  parallel_items((x.n + kBlock - 1) / kBlock, threads, [&](int64_t block) {
    std::vector<std::pair<float, int64_t>> found;
    for (int64_t i = block * kBlock; i < std::min(x.n, (block + 1) * kBlock); ++i) {
      auto heap = index.searchKnn(x.row(i), static_cast<size_t>(others + 1));
      found.clear();
      for (; !heap.empty(); heap.pop())
        if (static_cast<int64_t>(heap.top().second) != i)
          found.emplace_back(heap.top().first, static_cast<int64_t>(heap.top().second));
      std::sort(found.begin(), found.end());
      if (static_cast<int>(found.size()) < others)
        throw Error("hnswlib found only " + std::to_string(found.size()) + " neighbours of row " +
                    std::to_string(i) + "; raise exact_knn_max to search exactly");
      nb.index[i * nb.k] = i;
      nb.dist[i * nb.k] = 0;
      for (int m = 0; m < others; ++m) {
        nb.index[i * nb.k + 1 + m] = found[m].second;
        nb.dist[i * nb.k + 1 + m] = cosine ? std::max(0.0, static_cast<double>(found[m].first))
                                           : std::sqrt(std::max(0.0f, found[m].first));
      }
    }
  });
  return nb;
}

}  // namespace tension::atlas::umap_detail
