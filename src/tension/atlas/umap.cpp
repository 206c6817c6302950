#include "tension/atlas/umap.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

#include "tension/core/error.h"
#include "tension/core/parallel.h"
#include "tension/core/percentile.h"
#include "tension/core/simd.h"

// uwot's C++ core (a BSD-2-Clause notice in each header) and hnswlib (Apache-2.0) are included here and in no
// other file: both define non-inline functions (docs/dependencies.md §1-§2). smooth_knn.h includes
// RcppPerpendicular.h, which is GPL and unused here; defining its include guard first keeps its contents out.
#define RCPP_PERPENDICULAR
#include <hnswlib/hnswlib.h>
#include <uwot/epoch.h>
#include <uwot/smooth_knn.h>
#include <uwot/tauprng.h>

namespace tension::atlas {
namespace {

constexpr int64_t kLanes = 16;  // rows are zero-padded to a multiple of this; the kernels keep 16 partial sums

// ---- distances ----------------------------------------------------------------------------------------------
// The kernels carry TENSION_SIMD_CLONES: these loops are where the neighbour search spends its time.

// 16 floats as one value (one zmm register with AVX-512, two ymm with AVX2, four xmm otherwise), read from any
// float address.
typedef float Lanes __attribute__((vector_size(kLanes * sizeof(float)), aligned(alignof(float)), may_alias));

inline const Lanes& lanes_at(const float* p) { return *reinterpret_cast<const Lanes*>(p); }

// The 16 partial sums added in one fixed order.
inline float lane_sum(const Lanes& s) {
  float t[8];
  for (int l = 0; l < 8; ++l) t[l] = s[l] + s[l + 8];
  for (int l = 0; l < 4; ++l) t[l] += t[l + 4];
  return (t[0] + t[2]) + (t[1] + t[3]);
}

template <bool Dot>
inline __attribute__((always_inline)) void accumulate(Lanes& s, const float* x, const Lanes& y) {
  if constexpr (Dot) {
    s += lanes_at(x) * y;
  } else {
    const Lanes e = lanes_at(x) - y;
    s += e * e;
  }
}

// out[i * nb + j] = <a_i, b_j> (Dot) or |a_i - b_j|^2 for the rows of a [na, dp] and b [nb, dp]; four rows of a
// share each load of a row of b.
template <bool Dot>
inline __attribute__((always_inline)) void tile(const float* a, int64_t na, const float* b, int64_t nb,
                                                int64_t dp, float* out) {
  int64_t i = 0;
  for (; i + 4 <= na; i += 4) {
    const float* r0 = a + i * dp;
    const float* r1 = r0 + dp;
    const float* r2 = r1 + dp;
    const float* r3 = r2 + dp;
    for (int64_t j = 0; j < nb; ++j) {
      const float* c = b + j * dp;
      Lanes s0 = {}, s1 = {}, s2 = {}, s3 = {};
      for (int64_t d = 0; d < dp; d += kLanes) {
        const Lanes v = lanes_at(c + d);
        accumulate<Dot>(s0, r0 + d, v);
        accumulate<Dot>(s1, r1 + d, v);
        accumulate<Dot>(s2, r2 + d, v);
        accumulate<Dot>(s3, r3 + d, v);
      }
      out[i * nb + j] = lane_sum(s0);
      out[(i + 1) * nb + j] = lane_sum(s1);
      out[(i + 2) * nb + j] = lane_sum(s2);
      out[(i + 3) * nb + j] = lane_sum(s3);
    }
  }
  for (; i < na; ++i) {
    for (int64_t j = 0; j < nb; ++j) {
      Lanes s = {};
      for (int64_t d = 0; d < dp; d += kLanes) accumulate<Dot>(s, a + i * dp + d, lanes_at(b + j * dp + d));
      out[i * nb + j] = lane_sum(s);
    }
  }
}

TENSION_SIMD_CLONES void dot_tile(const float* a, int64_t na, const float* b, int64_t nb, int64_t dp, float* out) {
  tile<true>(a, na, b, nb, dp, out);
}

TENSION_SIMD_CLONES void sqdist_tile(const float* a, int64_t na, const float* b, int64_t nb, int64_t dp,
                                     float* out) {
  tile<false>(a, na, b, nb, dp, out);
}

// The rows the neighbour search and PCA work on: zero-padded to a multiple of kLanes floats, and L2-normalised
// under cosine (so that cosine distance is 1 - <a, b>).
struct Rows {
  int64_t n = 0, dim = 0, dp = 0;
  std::vector<float> v;
  const float* row(int64_t i) const { return v.data() + i * dp; }
};

Rows prepare_rows(const float* data, int64_t n, int64_t dim, bool cosine) {
  Rows r;
  r.n = n;
  r.dim = dim;
  r.dp = (dim + kLanes - 1) / kLanes * kLanes;
  r.v.assign(static_cast<size_t>(n * r.dp), 0.0f);
  for (int64_t i = 0; i < n; ++i) {
    const float* x = data + i * dim;
    double norm2 = 0;
    for (int64_t d = 0; d < dim; ++d) {
      if (!std::isfinite(x[d]))
        throw Error("UMAP input row " + std::to_string(i) + " has a non-finite value (column " +
                    std::to_string(d) + ")");
      norm2 += static_cast<double>(x[d]) * x[d];
    }
    if (cosine && norm2 == 0)
      throw Error("UMAP input row " + std::to_string(i) + " is all zeros, which has no cosine distance");
    const double scale = cosine ? 1.0 / std::sqrt(norm2) : 1.0;
    float* out = r.v.data() + i * r.dp;
    for (int64_t d = 0; d < dim; ++d) out[d] = static_cast<float>(x[d] * scale);
  }
  return r;
}

// k nearest neighbours, the point itself first at distance 0 (umap-learn's layout of knn_indices/knn_dists).
struct Neighbors {
  int k = 0;
  std::vector<int64_t> index;  // [n, k]
  std::vector<double> dist;    // [n, k]: 1 - cos, or Euclidean
};

double to_distance(float raw, bool cosine) {
  return cosine ? std::max(0.0, 1.0 - static_cast<double>(raw)) : std::sqrt(std::max(0.0f, raw));
}

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

TENSION_SIMD_CLONES float hnsw_ip_distance(const void* a, const void* b, const void* dp) {
  float s = 0;
  tile<true>(static_cast<const float*>(a), 1, static_cast<const float*>(b), 1, *static_cast<const int64_t*>(dp), &s);
  return 1.0f - s;
}

TENSION_SIMD_CLONES float hnsw_l2_distance(const void* a, const void* b, const void* dp) {
  float s = 0;
  tile<false>(static_cast<const float*>(a), 1, static_cast<const float*>(b), 1, *static_cast<const int64_t*>(dp),
              &s);
  return s;
}

// hnswlib's own spaces pick their SIMD width from compile-time flags; this one uses the kernels above.
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

// ---- fuzzy simplicial set -----------------------------------------------------------------------------------

// Directed edges grouped by head: what uwot's NodeWorker walks.
struct Graph {
  std::vector<unsigned int> head, tail, ptr;
  std::vector<float> weight;
};

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

// umap-learn before optimising: memberships below max / epochs are dropped, as they would be sampled less than
// once. Returns epochs_per_sample (max / w) of the edges kept.
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

// ---- initialisation -----------------------------------------------------------------------------------------

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

constexpr double kPi = 3.14159265358979323846;

// Standard normal by Box-Muller on splitmix64: the same numbers with every standard library.
double normal(uint64_t& state) {
  const double u1 = (static_cast<double>(splitmix64(state) >> 11) + 1.0) * 0x1.0p-53;  // (0, 1]
  const double u2 = static_cast<double>(splitmix64(state) >> 11) * 0x1.0p-53;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2);
}

// Eigenvectors of the symmetric m x m matrix s (row-major, destroyed) by cyclic Jacobi rotations: columns of the
// returned matrix, with the eigenvalues left on the diagonal of s.
std::vector<double> jacobi_eigen(std::vector<double>& s, int m) {
  std::vector<double> v(static_cast<size_t>(m * m), 0.0);
  for (int i = 0; i < m; ++i) v[i * m + i] = 1;
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0, total = 0;
    for (int p = 0; p < m; ++p)
      for (int q = 0; q < m; ++q) (p == q ? total : off) += s[p * m + q] * s[p * m + q];
    if (off <= 1e-30 * (total + off)) break;
    for (int p = 0; p < m; ++p) {
      for (int q = p + 1; q < m; ++q) {
        const double apq = s[p * m + q];
        if (apq == 0) continue;
        const double theta = (s[q * m + q] - s[p * m + p]) / (2 * apq);
        const double t = (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), sn = t * c;
        for (int r = 0; r < m; ++r) {  // s <- s J
          const double a = s[r * m + p], b = s[r * m + q];
          s[r * m + p] = c * a - sn * b;
          s[r * m + q] = sn * a + c * b;
        }
        for (int r = 0; r < m; ++r) {  // s <- J^T s
          const double a = s[p * m + r], b = s[q * m + r];
          s[p * m + r] = c * a - sn * b;
          s[q * m + r] = sn * a + c * b;
        }
        for (int r = 0; r < m; ++r) {
          const double a = v[r * m + p], b = v[r * m + q];
          v[r * m + p] = c * a - sn * b;
          v[r * m + q] = sn * a + c * b;
        }
      }
    }
  }
  return v;
}

// Scores of the rows on their first two principal components, [n, 2]. The covariance comes from the distance
// kernel on the centred, transposed rows; its top eigenvectors from subspace iteration (6 vectors, 100 steps)
// and a Rayleigh-Ritz step. Each component's largest loading is made positive, so the sign is fixed.
std::vector<double> pca_scores(const Rows& x, int threads) {
  const int64_t n = x.n, d = x.dim, np = (n + kLanes - 1) / kLanes * kLanes;
  std::vector<double> mean(static_cast<size_t>(d), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) mean[j] += x.row(i)[j];
  for (auto& m : mean) m /= static_cast<double>(n);
  std::vector<float> t(static_cast<size_t>(d * np), 0.0f);  // centred columns as rows [d, np]
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) t[j * np + i] = static_cast<float>(x.row(i)[j] - mean[j]);
  std::vector<float> cov(static_cast<size_t>(d * d));
  constexpr int64_t kBlock = 16;
  parallel_items((d + kBlock - 1) / kBlock, threads, [&](int64_t block) {
    const int64_t r0 = block * kBlock;
    dot_tile(t.data() + r0 * np, std::min(kBlock, d - r0), t.data(), d, np, cov.data() + r0 * d);
  });

  const int m = static_cast<int>(std::min<int64_t>(d, 6));
  std::vector<double> q(static_cast<size_t>(d * m)), z(q.size());  // [d, m]
  uint64_t state = 0x5eed;
  for (auto& e : q) e = normal(state);
  auto orthonormalize = [&](std::vector<double>& a) {  // modified Gram-Schmidt on the columns
    for (int c = 0; c < m; ++c) {
      for (int p = 0; p < c; ++p) {
        double dot = 0;
        for (int64_t j = 0; j < d; ++j) dot += a[j * m + c] * a[j * m + p];
        for (int64_t j = 0; j < d; ++j) a[j * m + c] -= dot * a[j * m + p];
      }
      double norm = 0;
      for (int64_t j = 0; j < d; ++j) norm += a[j * m + c] * a[j * m + c];
      norm = std::sqrt(norm);
      for (int64_t j = 0; j < d; ++j) a[j * m + c] = norm > 0 ? a[j * m + c] / norm : 0.0;
    }
  };
  auto multiply = [&](const std::vector<double>& a, std::vector<double>& out) {  // out = cov a
    std::fill(out.begin(), out.end(), 0.0);
    for (int64_t r = 0; r < d; ++r)
      for (int64_t j = 0; j < d; ++j) {
        const double c = cov[r * d + j];
        for (int col = 0; col < m; ++col) out[r * m + col] += c * a[j * m + col];
      }
  };
  orthonormalize(q);
  for (int step = 0; step < 100; ++step) {
    multiply(q, z);
    orthonormalize(z);
    std::swap(q, z);
  }
  multiply(q, z);
  std::vector<double> small(static_cast<size_t>(m * m), 0.0);  // q^T cov q
  for (int a = 0; a < m; ++a)
    for (int b = 0; b < m; ++b)
      for (int64_t j = 0; j < d; ++j) small[a * m + b] += q[j * m + a] * z[j * m + b];
  auto rot = jacobi_eigen(small, m);
  std::vector<int> order(static_cast<size_t>(m));
  for (int c = 0; c < m; ++c) order[c] = c;
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return small[a * m + a] > small[b * m + b]; });

  std::vector<double> loading(static_cast<size_t>(d * 2), 0.0);  // [d, 2]
  for (int c = 0; c < std::min(m, 2); ++c) {
    double largest = 0;
    for (int64_t j = 0; j < d; ++j) {
      double v = 0;
      for (int a = 0; a < m; ++a) v += q[j * m + a] * rot[a * m + order[c]];
      loading[j * 2 + c] = v;
      if (std::abs(v) > std::abs(largest)) largest = v;
    }
    if (largest < 0)
      for (int64_t j = 0; j < d; ++j) loading[j * 2 + c] = -loading[j * 2 + c];
  }
  std::vector<double> scores(static_cast<size_t>(n * 2), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) {
      const double v = x.row(i)[j] - mean[j];
      scores[i * 2] += v * loading[j * 2];
      scores[i * 2 + 1] += v * loading[j * 2 + 1];
    }
  return scores;
}

// The initial layout: PCA scores scaled as umap-learn scales its spectral initialisation (largest |coordinate|
// 10, plus N(0, 1e-4) noise from the seed), then each axis min-max scaled to [0, 10] as umap-learn does before
// optimising.
std::vector<float> initial_layout(const Rows& x, uint64_t seed, int threads) {
  auto scores = pca_scores(x, threads);
  double largest = 0;
  for (double s : scores) largest = std::max(largest, std::abs(s));
  const double expansion = largest > 0 ? 10.0 / largest : 0.0;
  uint64_t state = seed ^ 0x1417a3d5c0ffeeULL;
  for (auto& s : scores) s = s * expansion + 1e-4 * normal(state);
  std::vector<float> y(scores.size());
  for (int axis = 0; axis < 2; ++axis) {
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (int64_t i = 0; i < x.n; ++i) {
      lo = std::min(lo, scores[i * 2 + axis]);
      hi = std::max(hi, scores[i * 2 + axis]);
    }
    for (int64_t i = 0; i < x.n; ++i)
      y[i * 2 + axis] = static_cast<float>(10.0 * (scores[i * 2 + axis] - lo) / (hi - lo));
  }
  return y;
}

// ---- optimisation -------------------------------------------------------------------------------------------

// uwot's parallel-for contract: worker(begin, end, thread_id) over contiguous ranges. Short ranges (the Adam
// step over 2n coordinates) stay on the calling thread, where starting threads would cost more than the work.
struct UwotParallel {
  int threads;
  template <class Worker>
  void pfor(std::size_t items, Worker& worker) {
    constexpr std::size_t kMinPerThread = 4096;
    const std::size_t used = std::max<std::size_t>(1, std::min<std::size_t>(threads, items / kMinPerThread));
    const std::size_t step = (items + used - 1) / used;
    parallel_items(static_cast<int64_t>(used), static_cast<int>(used), [&](int64_t t) {
      const std::size_t begin = static_cast<std::size_t>(t) * step;
      worker(begin, std::min(items, begin + step), static_cast<std::size_t>(t));
    });
  }
};

// uwot's per-node generator factory for NodeWorker: the negative samples of node p in an epoch come from a
// stream that depends on (seed, epoch, p) alone, so the thread count cannot change them.
struct NodeRngFactory {
  uint64_t seed = 0;
  uint64_t epoch = 0;
  explicit NodeRngFactory(std::size_t) {}
  void reseed() { ++epoch; }
  uwot::tau_prng create(std::size_t node) const {
    uint64_t state = seed;
    state = splitmix64(state) ^ epoch;
    state = splitmix64(state) ^ node;
    const uint64_t s0 = splitmix64(state), s1 = splitmix64(state), s2 = splitmix64(state);
    return uwot::tau_prng(s0 & 0xffffffffULL, s1 & 0xffffffffULL, s2 & 0xffffffffULL);  // taus88 has 32-bit states
  }
};

struct UwotProgress {
  const UmapProgress& callback;
  int64_t epochs;
  int64_t done = 0;
  bool is_aborted() const { return false; }
  void report() {
    ++done;
    if (callback) callback("layout", done, epochs);
  }
};

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

CurveParams find_ab_params(double min_dist, double spread) {
  if (!(spread > 0) || !(min_dist >= 0) || !std::isfinite(spread) || !std::isfinite(min_dist))
    throw Error("find_ab_params needs spread > 0 and min_dist >= 0");
  constexpr int kPoints = 300;
  std::vector<double> xs(kPoints), ys(kPoints);
  for (int i = 0; i < kPoints; ++i) {
    xs[i] = 3.0 * spread * i / (kPoints - 1);  // np.linspace(0, 3 spread, 300)
    ys[i] = xs[i] < min_dist ? 1.0 : std::exp(-(xs[i] - min_dist) / spread);
  }
  // Levenberg-Marquardt from (1, 1), scipy's curve_fit start.
  auto cost = [&](double a, double b) {
    double c = 0;
    for (int i = 0; i < kPoints; ++i) {
      const double r = 1.0 / (1.0 + a * std::pow(xs[i], 2 * b)) - ys[i];
      c += r * r;
    }
    return c;
  };
  double a = 1, b = 1, lambda = 1e-3, current = cost(a, b);
  for (int iter = 0; iter < 500; ++iter) {
    double jaa = 0, jab = 0, jbb = 0, ga = 0, gb = 0;
    for (int i = 0; i < kPoints; ++i) {
      if (xs[i] == 0) continue;  // f = 1 there for every a, b
      const double p = std::pow(xs[i], 2 * b), f = 1.0 / (1.0 + a * p), r = f - ys[i];
      const double da = -p * f * f, db = -a * p * 2 * std::log(xs[i]) * f * f;
      jaa += da * da;
      jab += da * db;
      jbb += db * db;
      ga += da * r;
      gb += db * r;
    }
    bool improved = false;
    while (!improved && lambda < 1e12) {
      const double m11 = jaa * (1 + lambda), m22 = jbb * (1 + lambda), det = m11 * m22 - jab * jab;
      const double step_a = -(m22 * ga - jab * gb) / det, step_b = -(m11 * gb - jab * ga) / det;
      const double na = a + step_a, nb = b + step_b;
      const double c = na > 0 && nb > 0 ? cost(na, nb) : std::numeric_limits<double>::infinity();
      if (c < current) {
        const bool converged = std::abs(step_a) < 1e-12 * (1 + a) && std::abs(step_b) < 1e-12 * (1 + b);
        a = na;
        b = nb;
        current = c;
        lambda = std::max(lambda / 10, 1e-12);
        improved = true;
        if (converged) return {a, b};
      } else {
        lambda *= 10;
      }
    }
    if (!improved) break;  // no step lowers the cost: at the minimum to machine precision
  }
  return {a, b};
}

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

  // uwot's deterministic path: NodeWorker gathers each node's gradient over its own edges into BatchUpdate's
  // buffer (no two threads write one node), and Adam (uwot's batch defaults: beta1 0.5, beta2 0.9, eps 1e-7)
  // moves all coordinates at the end of the epoch.
  using Update = uwot::BatchUpdate<true, uwot::Adam>;
  uwot::Adam adam(opt.learning_rate, 0.5f, 0.9f, 1e-7f, out.xy.size());
  Update update(out.xy, out.xy, adam, new uwot::DoNothingCallback());  // takes ownership of the callback
  const uwot::umap_gradient gradient(static_cast<float>(ab.a), static_cast<float>(ab.b), opt.repulsion_strength);
  uwot::Sampler sampler(epochs_per_sample, opt.negative_sample_rate);
  uwot::NodeWorker<uwot::umap_gradient, Update, NodeRngFactory> worker(gradient, update, graph.head, graph.tail,
                                                                      graph.ptr, sampler, 2,
                                                                      static_cast<std::size_t>(n));
  worker.rng_factory.seed = opt.seed;
  UwotParallel parallel{threads};
  UwotProgress uwot_progress{progress, out.epochs};
  uwot::optimize_layout(worker, uwot_progress, static_cast<unsigned int>(out.epochs), parallel);
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
