// The atlas's numerical core (issue 7): UMAP keeps planted clusters together, is reproducible, fits umap-learn's
// curve; the paper code's layout normalisation and icon grid on hand-made numbers; clear errors on bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "tension/atlas/grid.h"
#include "tension/atlas/umap.h"
#include "testing.h"

namespace {

using namespace tension::atlas;
using tension::testing::error_of;

struct Planted {
  int64_t n = 0, dim = 0;
  std::vector<float> data;
  std::vector<int> label;
};

// `clusters` Gaussian clusters of `per_cluster` points in `dim` dimensions: centres N(0, 1), offsets N(0, noise^2).
Planted planted_clusters(int clusters, int per_cluster, int64_t dim, float noise, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> centres(static_cast<size_t>(clusters * dim));
  for (auto& c : centres) c = normal(rng);
  Planted p;
  p.n = static_cast<int64_t>(clusters) * per_cluster;
  p.dim = dim;
  p.data.resize(static_cast<size_t>(p.n * dim));
  p.label.resize(static_cast<size_t>(p.n));
  for (int64_t i = 0; i < p.n; ++i) {
    p.label[i] = static_cast<int>(i % clusters);
    for (int64_t d = 0; d < dim; ++d) p.data[i * dim + d] = centres[p.label[i] * dim + d] + noise * normal(rng);
  }
  return p;
}

// The fraction of each point's k nearest neighbours (indices [n, k]) that carry its label.
double label_agreement(const std::vector<int64_t>& nn, const std::vector<int>& label, int k) {
  int64_t same = 0;
  for (size_t i = 0; i < label.size(); ++i)
    for (int m = 0; m < k; ++m) same += label[nn[i * k + m]] == label[i];
  return static_cast<double>(same) / static_cast<double>(nn.size());
}

// The mean fraction of shared members between two k-neighbour lists per point.
double set_overlap(const std::vector<int64_t>& a, const std::vector<int64_t>& b, int k) {
  int64_t shared = 0;
  for (size_t i = 0; i < a.size() / k; ++i)
    for (int m = 0; m < k; ++m) shared += std::count(b.begin() + i * k, b.begin() + (i + 1) * k, a[i * k + m]);
  return static_cast<double>(shared) / static_cast<double>(a.size());
}

void expect_keeps_clusters(const UmapOptions& opt, bool exact_expected) {
  constexpr int k = 10;
  const auto p = planted_clusters(12, 300, 64, 1.0f, 11);
  const auto layout = umap_layout(p.data.data(), p.n, p.dim, opt);
  ASSERT_EQ(layout.xy.size(), static_cast<size_t>(p.n * 2));
  EXPECT_EQ(layout.exact_knn, exact_expected);
  EXPECT_EQ(layout.epochs, 500);  // umap-learn's default for n <= 10,000
  for (float v : layout.xy) ASSERT_TRUE(std::isfinite(v));

  const auto in_layout = exact_neighbors(layout.xy.data(), p.n, 2, k, false);
  const auto in_input = exact_neighbors(p.data.data(), p.n, p.dim, k, true);
  const double layout_agreement = label_agreement(in_layout, p.label, k);
  const double input_agreement = label_agreement(in_input, p.label, k);
  const double overlap = set_overlap(in_input, in_layout, k);
  std::printf("10-NN label agreement: layout %.4f, input space %.4f (chance %.3f); input/layout 10-NN overlap %.4f "
              "(chance %.4f)\n",
              layout_agreement, input_agreement, 1.0 / 12, overlap, static_cast<double>(k) / p.n);
  EXPECT_GT(layout_agreement, 0.9);
  EXPECT_GT(overlap, 10.0 * k / p.n);  // far above chance; neighbours within a noisy cluster are not all kept
}

TEST(AtlasUmap, KeepsPlantedClustersTogether) { expect_keeps_clusters(UmapOptions(), true); }

TEST(AtlasUmap, KeepsPlantedClustersTogetherWithHnswNeighbours) {
  UmapOptions opt;
  opt.exact_knn_max = 0;
  expect_keeps_clusters(opt, false);
}

TEST(AtlasUmap, ExactNeighborsOnALine) {
  const std::vector<float> x{0, 1, 3, 7, 15};  // Euclidean distances: the nearest of 3 is 1 (2), then 0 (3)
  const auto nn = exact_neighbors(x.data(), 5, 1, 2, false);
  EXPECT_EQ(nn, (std::vector<int64_t>{1, 2, 0, 2, 1, 0, 2, 1, 3, 2}));
  const std::vector<float> v{1, 0, 0, 1, 1, 1, -1, 0};  // cosine: (1,1) is 45 degrees from both axes
  EXPECT_EQ(exact_neighbors(v.data(), 4, 2, 1, true), (std::vector<int64_t>{2, 2, 0, 1}));
}

TEST(AtlasUmap, SameSeedSameLayoutWhateverTheThreads) {
  const auto p = planted_clusters(4, 150, 16, 1.0f, 5);
  for (int64_t exact_max : {int64_t{1} << 40, int64_t{0}}) {
    UmapOptions opt;
    opt.epochs = 100;
    opt.seed = 3;
    opt.exact_knn_max = exact_max;
    opt.threads = 1;
    const auto one = umap_layout(p.data.data(), p.n, p.dim, opt).xy;
    opt.threads = 2;
    const auto two = umap_layout(p.data.data(), p.n, p.dim, opt).xy;
    const auto again = umap_layout(p.data.data(), p.n, p.dim, opt).xy;
    EXPECT_EQ(one, two) << "exact_knn_max " << exact_max;
    EXPECT_EQ(two, again) << "exact_knn_max " << exact_max;
    opt.seed = 4;
    const auto other = umap_layout(p.data.data(), p.n, p.dim, opt).xy;
    double diff = 0;
    for (size_t i = 0; i < other.size(); ++i) diff = std::max(diff, static_cast<double>(std::abs(other[i] - two[i])));
    EXPECT_GT(diff, 1e-2) << "exact_knn_max " << exact_max;
  }
}

TEST(AtlasUmap, CurveFitMatchesUmapLearn) {
  // umap-learn's find_ab_params(1.0, 0.1) (scipy curve_fit): a = 1.5769434604, b = 0.8950608781.
  const auto ab = find_ab_params(0.1, 1.0);
  EXPECT_NEAR(ab.a, 1.5769434604, 1e-3);
  EXPECT_NEAR(ab.b, 0.8950608781, 1e-3);
  // uwot's R find_ab_params (stats::nls), run once offline: (min_dist, spread) -> (a, b).
  const auto wide = find_ab_params(0.5, 1.0);
  EXPECT_NEAR(wide.a, 0.583030, 1e-3);
  EXPECT_NEAR(wide.b, 1.334167, 1e-3);
  const auto spread = find_ab_params(0.1, 2.0);
  EXPECT_NEAR(spread.a, 0.544661, 1e-3);
  EXPECT_NEAR(spread.b, 0.842055, 1e-3);
}

TEST(AtlasUmap, NormalizeLayoutAsThePaperCode) {
  // x: 0..100 with the ends moved to -1000 and 1000. Sorted, the 1st and 99th percentiles (numpy's linear rule,
  // positions 1 and 99 of 0..100) are 1 and 99. mins = 1 - 0.1 * 98 = -8.8; the paper code then widens the top
  // with the already widened minimum: maxs = 99 + 0.1 * (99 + 8.8) = 109.78 (not 108.8). The outliers clip to
  // those bounds, which become 0 and 1: x' = (x + 8.8) / 118.58.
  // y: 0..100, no outliers; the bounds (-8.8, 109.78) clip nothing and the min-max uses the data's own
  // extremes: y' = y / 100.
  std::vector<float> xy;
  for (int i = 0; i <= 100; ++i) {
    xy.push_back(i == 0 ? -1000.0f : i == 100 ? 1000.0f : static_cast<float>(i));
    xy.push_back(static_cast<float>(i));
  }
  const auto out = normalize_layout(xy);
  ASSERT_EQ(out.size(), xy.size());
  EXPECT_NEAR(out[0 * 2], 0.0, 1e-6);
  EXPECT_NEAR(out[100 * 2], 1.0, 1e-6);
  EXPECT_NEAR(out[50 * 2], (50 + 8.8) / 118.58, 1e-6);  // 0.49587; 0.5 without the quirk
  EXPECT_NEAR(out[1 * 2], (1 + 8.8) / 118.58, 1e-6);
  for (int i = 0; i <= 100; ++i) EXPECT_NEAR(out[i * 2 + 1], i / 100.0, 1e-6) << i;
}

std::vector<float> repeat(std::vector<float> xy, float x, float y, int times) {
  for (int t = 0; t < times; ++t) {
    xy.push_back(x);
    xy.push_back(y);
  }
  return xy;
}

std::vector<int64_t> range(int64_t begin, int64_t end) {
  std::vector<int64_t> r;
  for (int64_t i = begin; i < end; ++i) r.push_back(i);
  return r;
}

TEST(AtlasGrid, BoundaryPointsCountInEveryCellTheyTouch) {
  // A 4 x 4 grid (cells 0.25 wide); the points' rows are in the comments.
  std::vector<float> xy;
  xy = repeat(xy, 0.3f, 0.6f, 6);   // 0-5: inside cell (1, 2)
  xy = repeat(xy, 0.9f, 0.1f, 5);   // 6-10: inside cell (3, 0), only 5
  xy = repeat(xy, 0.5f, 0.9f, 3);   // 11-13: on x = 2/4, in cells (1, 3) and (2, 3)
  xy = repeat(xy, 0.4f, 0.9f, 3);   // 14-16: inside cell (1, 3)
  xy = repeat(xy, 0.75f, 0.5f, 1);  // 17: on the corner (3/4, 2/4) of cells (2, 1), (2, 2), (3, 1), (3, 2)
  xy = repeat(xy, 0.6f, 0.3f, 5);   // 18-22: inside cell (2, 1)
  xy = repeat(xy, 1.0f, 1.0f, 6);   // 23-28: the far corner, cell (3, 3) only
  xy = repeat(xy, 0.0f, 0.0f, 6);   // 29-34: the origin, cell (0, 0) only

  CellGridOptions opt;
  opt.n = 4;
  const auto icons = assign_cells(xy, opt);  // more than 5 points
  ASSERT_EQ(icons.size(), 5u);
  auto expect_cell = [&](const IconCell& c, int xi, int yi, const std::vector<int64_t>& points) {
    EXPECT_EQ(c.xi, xi);
    EXPECT_EQ(c.yi, yi);
    EXPECT_EQ(c.points, points) << "cell (" << xi << ", " << yi << ")";
  };
  expect_cell(icons[0], 0, 0, range(29, 35));
  expect_cell(icons[1], 1, 2, range(0, 6));
  expect_cell(icons[2], 1, 3, range(11, 17));
  expect_cell(icons[3], 2, 1, range(17, 23));
  expect_cell(icons[4], 3, 3, range(23, 29));

  opt.min_points = 4;  // now the 5 points of cell (3, 0) suffice, the 3 of (2, 3) still not
  const auto more = assign_cells(xy, opt);
  ASSERT_EQ(more.size(), 6u);
  expect_cell(more[4], 3, 0, range(6, 11));
  expect_cell(more[5], 3, 3, range(23, 29));

  opt.min_points = 6;
  EXPECT_TRUE(assign_cells(xy, opt).empty());
}

TEST(AtlasUmap, ClearErrorsOnBadInput) {
  std::vector<float> ok(20 * 3, 1.0f);
  for (size_t i = 0; i < ok.size(); ++i) ok[i] = static_cast<float>((i * 7919) % 13) + 1;
  UmapOptions opt;
  EXPECT_NE(error_of([&] { umap_layout(ok.data(), 10, 3, opt); }).find("more points than neighbours"),
            std::string::npos);
  EXPECT_NE(error_of([&] { umap_layout(ok.data(), 20, 0, opt); }).find("columns"), std::string::npos);
  auto bad = ok;
  bad[5 * 3 + 1] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_NE(error_of([&] { umap_layout(bad.data(), 20, 3, opt); }).find("row 5 has a non-finite"),
            std::string::npos);
  bad = ok;
  bad[7 * 3 + 2] = std::numeric_limits<float>::infinity();
  EXPECT_NE(error_of([&] { umap_layout(bad.data(), 20, 3, opt); }).find("row 7 has a non-finite"),
            std::string::npos);
  auto zero = ok;
  std::fill(zero.begin() + 4 * 3, zero.begin() + 5 * 3, 0.0f);
  EXPECT_NE(error_of([&] { umap_layout(zero.data(), 20, 3, opt); }).find("row 4 is all zeros"), std::string::npos);
  UmapOptions euclidean;
  euclidean.cosine = false;
  euclidean.epochs = 10;
  EXPECT_EQ(umap_layout(zero.data(), 20, 3, euclidean).xy.size(), 40u);  // a zero row is fine for Euclidean
  UmapOptions few;
  few.neighbors = 1;
  EXPECT_NE(error_of([&] { umap_layout(ok.data(), 20, 3, few); }).find("at least 2 neighbours"), std::string::npos);
  UmapOptions inverted;
  inverted.min_dist = 2;
  EXPECT_NE(error_of([&] { umap_layout(ok.data(), 20, 3, inverted); }).find("min_dist <= spread"),
            std::string::npos);
  EXPECT_FALSE(error_of([] { find_ab_params(0.1, 0); }).empty());

  EXPECT_NE(error_of([] { normalize_layout({1, 2, 3}); }).find("[n, 2]"), std::string::npos);
  EXPECT_NE(error_of([] { normalize_layout({1, 2, 1, 3, 1, 4}); }).find("axis 0 has no extent"), std::string::npos);
  EXPECT_NE(error_of([] { assign_cells({0.5f, 1.5f}); }).find("outside [0, 1]^2"), std::string::npos);
  EXPECT_NE(error_of([] { assign_cells({0.5f, 0.5f}, CellGridOptions{0, 5}); }).find("n >= 1"), std::string::npos);
}

}  // namespace
