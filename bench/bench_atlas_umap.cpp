// Times tension's UMAP (atlas/umap.h) on planted clusters: N vectors of DIM dimensions around CLUSTERS Gaussian
// centres, the paper's settings (10 neighbours, min_dist 0.1, cosine), the median of RUNS runs.
// Usage: bench_atlas_umap [N] [DIM] [CLUSTERS] [RUNS] [EXACT_KNN_MAX] [DUMP]
//   defaults 10000 480 10 3; EXACT_KNN_MAX: the option of that name (negative or absent: the library's default,
//   0: always hnswlib); DUMP: a path prefix to write the data to, DUMP.f32 (float32 [N, DIM] row-major) and
//   DUMP.labels (int32 [N]), for a baseline run elsewhere.
// Prints one JSON object: seconds per run and their median, the neighbour-search share of the last run, and the
// 10-NN agreement of the layout (the fraction of each point's 10 nearest layout neighbours with its label) and
// its 10-NN overlap with the input space.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "tension/atlas/umap.h"

int main(int argc, char** argv) {
  using namespace tension::atlas;
  const int64_t n = argc > 1 ? std::stoll(argv[1]) : 10000;
  const int64_t dim = argc > 2 ? std::stoll(argv[2]) : 480;
  const int clusters = argc > 3 ? std::stoi(argv[3]) : 10;
  const int runs = argc > 4 ? std::stoi(argv[4]) : 3;

  std::mt19937_64 rng(7);
  std::normal_distribution<float> normal;
  std::vector<float> centres(static_cast<size_t>(clusters * dim)), data(static_cast<size_t>(n * dim));
  for (auto& c : centres) c = normal(rng);
  std::vector<int> label(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    label[i] = static_cast<int>(i % clusters);
    for (int64_t d = 0; d < dim; ++d) data[i * dim + d] = centres[label[i] * dim + d] + normal(rng);
  }

  if (argc > 6) {
    std::FILE* f = std::fopen((std::string(argv[6]) + ".f32").c_str(), "wb");
    std::FILE* l = std::fopen((std::string(argv[6]) + ".labels").c_str(), "wb");
    if (!f || !l) {
      std::fprintf(stderr, "cannot write %s.f32 / .labels\n", argv[6]);
      return 1;
    }
    std::fwrite(data.data(), sizeof(float), data.size(), f);
    std::fwrite(label.data(), sizeof(int), label.size(), l);
    std::fclose(f);
    std::fclose(l);
  }

  UmapOptions opt;  // the paper's: 10 neighbours, min_dist 0.1, cosine
  opt.seed = 1;
  if (argc > 5 && std::stoll(argv[5]) >= 0) opt.exact_knn_max = std::stoll(argv[5]);
  std::vector<double> seconds;
  double knn_seconds = 0;
  UmapLayout layout;
  for (int r = 0; r < runs; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    auto since = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
    layout = umap_layout(data.data(), n, dim, opt, [&](const std::string& stage, int64_t done, int64_t) {
      if (stage == "neighbors" && done == 1) knn_seconds = since();
    });
    seconds.push_back(since());
  }
  auto sorted = seconds;
  std::sort(sorted.begin(), sorted.end());

  constexpr int k = 10;
  const auto in_layout = exact_neighbors(layout.xy.data(), n, 2, k, false);
  const auto in_input = exact_neighbors(data.data(), n, dim, k, true);
  int64_t same_label = 0, shared = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int m = 0; m < k; ++m) {
      same_label += label[in_layout[i * k + m]] == label[i];
      shared += std::count(in_input.begin() + i * k, in_input.begin() + (i + 1) * k, in_layout[i * k + m]);
    }
  std::printf("{\"n\": %lld, \"dim\": %lld, \"clusters\": %d, \"epochs\": %d, \"exact_knn\": %s, \"seconds\": [",
              static_cast<long long>(n), static_cast<long long>(dim), clusters, layout.epochs,
              layout.exact_knn ? "true" : "false");
  for (size_t r = 0; r < seconds.size(); ++r) std::printf("%s%.3f", r ? ", " : "", seconds[r]);
  std::printf("], \"median_seconds\": %.3f, \"neighbors_seconds\": %.3f, \"agreement_10nn\": %.4f, "
              "\"input_overlap_10nn\": %.4f}\n",
              sorted[sorted.size() / 2], knn_seconds, static_cast<double>(same_label) / (n * k),
              static_cast<double>(shared) / (n * k));
  return 0;
}
