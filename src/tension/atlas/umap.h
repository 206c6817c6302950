#pragma once
// UMAP (McInnes, Healy & Melville 2018) of the atlas vectors into the plane, with umap-learn's defaults, and the
// paper code's normalisation of the layout (docs/paper-code.md §2.11 steps 4-5).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tension::atlas {

struct UmapOptions {
  int neighbors = 10;               // n_neighbors, the point itself included (umap-learn's convention)
  float min_dist = 0.1f;
  float spread = 1.0f;
  int epochs = 0;                   // 0: umap-learn's default, 500 for n <= 10,000 points, else 200
  uint64_t seed = 0;
  int threads = 0;                  // 0: all hardware threads; the layout does not depend on the count
  bool cosine = true;               // false: Euclidean
  float negative_sample_rate = 5;
  float learning_rate = 1;
  float repulsion_strength = 1;     // gamma
  // Exact neighbours up to this many points (O(n^2 dim); measured faster than hnswlib here up to at least
  // 20,000 x 480), hnswlib's approximate ones above.
  int64_t exact_knn_max = 20000;
};

struct UmapLayout {
  std::vector<float> xy;            // [n, 2] row-major
  int epochs = 0;                   // as resolved from the options
  double a = 0, b = 0;              // the fitted curve 1 / (1 + a d^2b)
  bool exact_knn = true;
  int64_t edges = 0;                // directed edges of the fuzzy graph that the optimisation samples
};

// Stage "neighbors" (0 then 1 of 1), then "layout" after each epoch; called on the calling thread.
using UmapProgress = std::function<void(const std::string& stage, int64_t done, int64_t total)>;

// The layout of the n rows of data [n, dim] (row-major). On one machine the same seed gives the same layout
// whatever the thread count (the distance kernels' SIMD variant, and so their rounding, is chosen per CPU).
// Throws tension::Error on dim < 1, n <= neighbors, neighbors < 2, non-finite values, a zero row under cosine,
// or options out of range.
UmapLayout umap_layout(const float* data, int64_t n, int64_t dim, const UmapOptions& opt,
                       const UmapProgress& progress = {});

struct CurveParams {
  double a = 0, b = 0;
};

// umap-learn's find_ab_params: the least-squares fit of 1 / (1 + a x^2b) to 1 for x < min_dist and
// exp(-(x - min_dist) / spread) beyond, on 300 points in [0, 3 spread].
CurveParams find_ab_params(double min_dist, double spread);

// The k nearest other rows of each row, exactly (cosine distance 1 - cos, or Euclidean): [n, k] row-major,
// nearest first, ties to the lower index. For measuring how a layout keeps neighbourhoods.
std::vector<int64_t> exact_neighbors(const float* data, int64_t n, int64_t dim, int k, bool cosine,
                                     int threads = 0);

// The paper code's normalize_layout of an [n, 2] layout: per axis the 1st and 99th percentiles widened by a 10 %
// margin, clipped, then min-max scaled to [0, 1]. Throws tension::Error when an axis has no extent.
std::vector<float> normalize_layout(const std::vector<float>& xy);

}  // namespace tension::atlas
