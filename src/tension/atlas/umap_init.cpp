// UMAP's initial layout: the rows' first two principal components, scaled as umap-learn scales its spectral
// initialisation.
#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "tension/atlas/umap_stages.h"
#include "tension/core/parallel.h"

namespace tension::atlas::umap_detail {

namespace {

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

}  // namespace

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

}  // namespace tension::atlas::umap_detail
