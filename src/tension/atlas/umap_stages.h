#pragma once
// The stages of umap_layout (umap.cpp), internal to the atlas stage. Each lives in its own file, and each
// third-party header in exactly one of them, since they define non-inline functions (docs/dependencies.md §1-§2):
// distance kernels (umap_distances.cpp), neighbours (umap_neighbours.cpp, hnswlib), the fuzzy simplicial set
// (umap_fuzzy_set.cpp, uwot's smooth_knn), the initial layout (umap_init.cpp) and the optimisation
// (umap_layout.cpp, uwot's optimiser).
#include <cstdint>
#include <vector>

#include "tension/atlas/umap.h"
#include "tension/core/splitmix.h"

namespace tension::atlas::umap_detail {

constexpr int64_t kLanes = 16;  // rows are zero-padded to a multiple of this; the kernels keep 16 partial sums

// ---- distances (umap_distances.cpp) --------------------------------------------------------------------------

// The rows the neighbour search and PCA work on: zero-padded to a multiple of kLanes floats, and L2-normalised
// under cosine (so that cosine distance is 1 - <a, b>).
struct Rows {
  int64_t n = 0, dim = 0, dp = 0;
  std::vector<float> v;
  const float* row(int64_t i) const { return v.data() + i * dp; }
};

Rows prepare_rows(const float* data, int64_t n, int64_t dim, bool cosine);

// out[i * nb + j] = <a_i, b_j> (dot_tile) or |a_i - b_j|^2 (sqdist_tile) for the rows of a [na, dp] and
// b [nb, dp], dp a multiple of kLanes.
void dot_tile(const float* a, int64_t na, const float* b, int64_t nb, int64_t dp, float* out);
void sqdist_tile(const float* a, int64_t na, const float* b, int64_t nb, int64_t dp, float* out);

// hnswlib's distance functions over two padded rows, `dp` pointing to the padded width: 1 - <a, b> and |a - b|^2.
float hnsw_ip_distance(const void* a, const void* b, const void* dp);
float hnsw_l2_distance(const void* a, const void* b, const void* dp);

// ---- neighbours (umap_neighbours.cpp) ------------------------------------------------------------------------

// k nearest neighbours, the point itself first at distance 0 (umap-learn's layout of knn_indices/knn_dists).
struct Neighbors {
  int k = 0;
  std::vector<int64_t> index;  // [n, k]
  std::vector<double> dist;    // [n, k]: 1 - cos, or Euclidean
};

// Exact, ties to the lower index.
Neighbors knn_exact(const Rows& x, int others, bool cosine, int threads);
// Approximate, by HNSW; the same for a seed whatever the thread count.
Neighbors knn_hnsw(const Rows& x, int others, bool cosine, int threads, uint64_t seed);

// ---- fuzzy simplicial set (umap_fuzzy_set.cpp) ---------------------------------------------------------------

// Directed edges grouped by head: what uwot's NodeWorker walks.
struct Graph {
  std::vector<unsigned int> head, tail, ptr;
  std::vector<float> weight;
};

Graph fuzzy_simplicial_set(const Neighbors& nb, int64_t n, int threads);

// umap-learn before optimising: memberships below max / epochs are dropped, as they would be sampled less than
// once. Returns epochs_per_sample (max / w) of the edges kept.
std::vector<float> prune_for_epochs(Graph& g, int epochs);

// ---- initialisation (umap_init.cpp) --------------------------------------------------------------------------

// The initial layout [n, 2] of the rows, from their principal components and the seed.
std::vector<float> initial_layout(const Rows& x, uint64_t seed, int threads);

// ---- optimisation (umap_layout.cpp) --------------------------------------------------------------------------

// Moves xy [n, 2] along the graph's edges for `epochs` epochs (uwot's deterministic path), calling progress
// ("layout", epoch, epochs) after each.
void optimize_layout(std::vector<float>& xy, const Graph& graph, const std::vector<float>& epochs_per_sample,
                     int epochs, const CurveParams& ab, const UmapOptions& opt, int threads,
                     const UmapProgress& progress);

}  // namespace tension::atlas::umap_detail
