// UMAP's distance kernels (umap_stages.h) and the rows they read. They carry TENSION_SIMD_CLONES: these loops are
// where the neighbour search spends its time.
#include <algorithm>
#include <cmath>
#include <string>

#include "tension/atlas/umap_stages.h"
#include "tension/core/error.h"
#include "tension/core/simd.h"

namespace tension::atlas::umap_detail {
namespace {

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

}  // namespace

TENSION_SIMD_CLONES void dot_tile(const float* a, int64_t na, const float* b, int64_t nb, int64_t dp, float* out) {
  tile<true>(a, na, b, nb, dp, out);
}

TENSION_SIMD_CLONES void sqdist_tile(const float* a, int64_t na, const float* b, int64_t nb, int64_t dp,
                                     float* out) {
  tile<false>(a, na, b, nb, dp, out);
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

}  // namespace tension::atlas::umap_detail
