// Spherical k-means recovers planted directions, and the two-stage pick spreads them.
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "tension/analysis/kmeans.h"
#include "tension/core/error.h"
#include "testing.h"

using namespace tension;

namespace {

// n points around each of `dirs` unit directions in R^d, with random positive scales and small noise.
torch::Tensor planted(const torch::Tensor& dirs, int64_t n, double noise) {
  std::vector<torch::Tensor> parts;
  for (int64_t i = 0; i < dirs.size(0); ++i) {
    auto scale = torch::rand({n, 1}) * 4 + 0.5;
    parts.push_back(scale * dirs[i] + noise * torch::randn({n, dirs.size(1)}));
  }
  return torch::cat(parts);
}

}  // namespace

TEST(KMeans, RecoversPlantedDirections) {
  torch::manual_seed(3);
  auto dirs = torch::randn({6, 32});
  dirs = dirs / dirs.norm(2, 1, true);
  auto x = planted(dirs, 80, 0.05);
  x = x.index_select(0, torch::randperm(x.size(0)));
  analysis::KMeansOptions o;
  o.k = 6;
  o.seed = 1;
  auto r = analysis::spherical_kmeans(x, o);
  ASSERT_EQ(r.centroids.sizes(), (std::vector<int64_t>{6, 32}));
  // Every planted direction has a centroid within cosine 0.99, and each centroid serves one direction.
  auto cos = dirs.matmul(r.centroids.t());
  auto [best, which] = cos.max(1);
  EXPECT_GT(best.min().item<double>(), 0.99) << cos;
  EXPECT_EQ(std::get<0>(at::_unique(which)).numel(), 6);
  EXPECT_TRUE(torch::allclose(r.centroids.norm(2, 1), torch::ones({6}), 1e-5, 1e-5));
}

TEST(KMeans, SpreadPickTakesOneCentroidPerGroup) {
  torch::manual_seed(4);
  // 3 well-separated groups of 5 nearby centroids each: the pick takes one from each group.
  auto groups = torch::eye(16).slice(0, 0, 3);
  auto centroids = torch::cat({groups[0] + 0.05 * torch::randn({5, 16}), groups[1] + 0.05 * torch::randn({5, 16}),
                               groups[2] + 0.05 * torch::randn({5, 16})});
  auto picked = analysis::spread_directions(centroids, 3, 7);
  ASSERT_EQ(picked.size(0), 3);
  auto which = std::get<1>(picked.matmul(groups.t()).max(1));
  EXPECT_EQ(std::get<0>(at::_unique(which)).numel(), 3);
  // Each pick is one of the original centroids (normalised), not a new mean.
  auto cn = centroids / centroids.norm(2, 1, true);
  EXPECT_GT(std::get<0>(picked.matmul(cn.t()).max(1)).min().item<double>(), 1 - 1e-5);
}

// Coinciding centroids (two directions, three copies each) leave groups of the second k-means without members: the
// pick still returns `groups` different centroids (before, the pick drew from an empty group: a torch error).
TEST(KMeans, SpreadPickOfCoincidingCentroidsTakesDifferentOnes) {
  auto e = torch::eye(8);
  auto centroids = torch::cat({e[0].expand({3, 8}), e[1].expand({3, 8})});
  auto picked = analysis::spread_directions(centroids, 4, 3);
  ASSERT_EQ(picked.size(0), 4);
  // Both directions are among the picks, and no more than the three copies of either.
  const auto first = (picked.select(1, 0) > 0.5).sum().item<int64_t>();
  const auto second = (picked.select(1, 1) > 0.5).sum().item<int64_t>();
  EXPECT_EQ(first + second, 4);
  EXPECT_GE(first, 1);
  EXPECT_GE(second, 1);
  EXPECT_LE(std::max(first, second), 3);
}

TEST(KMeans, BadKIsAClearError) {
  analysis::KMeansOptions o;
  o.k = 10;
  std::string msg = tension::testing::error_of([&] { analysis::spherical_kmeans(torch::randn({5, 3}), o); });
  EXPECT_NE(msg.find("k = 10"), std::string::npos) << msg;
}

// `tension kmeans` killed ten times at random moments, then run to the end: its directions equal an uninterrupted
// run's, byte for byte (nothing a killed run leaves behind is taken up).
TEST(KMeans, KilledRunsEndAsTheCleanRun) {
  using tension::testing::cli_binary;
  using tension::testing::run_command;
  const std::string clean = tension::testing::temp_dir("kmeans_clean"),
                    killed = tension::testing::temp_dir("kmeans_killed");
  auto cmd = [](const std::string& out) {
    return cli_binary() + " --threads 1 kmeans fmnist-cnn fashion-mnist:test --layer relu2 --limit 3000 -k 40 "
                          "--pick 5 --out " + out;
  };
  std::string log;
  ASSERT_EQ(run_command(cmd(clean), &log), 0) << log;
  std::mt19937 rng(99);
  std::uniform_int_distribution<int> ms(150, 1600);
  int interrupted = 0;
  for (int attempt = 0; attempt < 10; ++attempt) {
    interrupted += run_command("timeout -s KILL " + std::to_string(ms(rng) / 1000.0) + " " + cmd(killed)) != 0;
  }
  EXPECT_GE(interrupted, 5) << "most kills came after the run ended: the test proved little";
  ASSERT_EQ(run_command(cmd(killed), &log), 0) << log;
  for (const char* f : {"/centroids.npy", "/directions.npy"}) {
    std::ifstream a(clean + f, std::ios::binary), b(killed + f, std::ios::binary);
    const std::string sa((std::istreambuf_iterator<char>(a)), {}), sb((std::istreambuf_iterator<char>(b)), {});
    EXPECT_FALSE(sa.empty()) << f;
    EXPECT_EQ(sa, sb) << f;
  }
}
