#include "tension/toy/fused_mlp.h"

#include <cmath>
#include <cstring>

#include "tension/core/error.h"
#include "tension/core/simd.h"

// Each restart is a few hundred floats, so the work is short fixed-length loops over GCC vectors of eight
// floats (native on AVX2 and AVX-512; every sum has a fixed order); target_clones compiles the hot functions
// for AVX-512, AVX2+FMA and the baseline, picked at load time (core/simd.h). Adam's sqrt vectorises only
// without errno (-fno-math-errno on this stage; its argument is never negative).
#define TENSION_INLINE inline __attribute__((always_inline))
#pragma GCC diagnostic ignored "-Wpsabi"  // the vector helpers are always inlined: no ABI crosses

namespace tension::toy {

namespace {

// Eight floats: a native vector on AVX2 and AVX-512 (VL). A hidden vector is kChunks of them, an output
// vector one.
typedef float v8 __attribute__((vector_size(8 * sizeof(float))));
constexpr int kChunks = kHiddenPad / 8;
static_assert(kOutputPad == 8, "one output vector is one v8");

TENSION_INLINE v8 ld(const float* p) {
  v8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
TENSION_INLINE void st(float* p, const v8& v) { std::memcpy(p, &v, sizeof v); }
TENSION_INLINE v8 relu(const v8& v) { return v > 0 ? v : v8{}; }

template <int NI>
struct Layout {
  static constexpr int kW1 = 0;                              // [NI][kHiddenPad]: row j = column j of W1
  static constexpr int kB1 = NI * kHiddenPad;
  static constexpr int kW2 = kB1 + kHiddenPad;               // [kOutputPad][kHiddenPad]: row i of W2
  static constexpr int kB2 = kW2 + kOutputPad * kHiddenPad;
  static constexpr int kSize = (kB2 + kOutputPad + 15) / 16 * 16;
};
static_assert(Layout<16>::kSize == kMaxLayoutSize, "kMaxLayoutSize is the largest layout");

// y += a * x over one hidden vector.
TENSION_INLINE void axpy_h(float a, const float* __restrict x, float* __restrict y) {
  for (int q = 0; q < kChunks; ++q) st(y + 8 * q, ld(y + 8 * q) + a * ld(x + 8 * q));
}

// The forward pass of one distinct row: h = ReLU(W1 x + b1) (eq. 7) and the pre-activation W2 h + b2 of
// eq. 8. w2t is W2 transposed ([kHiddenPad][kOutputPad]), so W2 h is a sum of scaled rows, over the real
// hidden units only, in two independent chains.
template <int NI>
TENSION_INLINE v8 forward_row(const float* __restrict p, const float* __restrict w2t, const SparseBatch& b,
                              int64_t r, int hidden, float* __restrict h) {
  using L = Layout<NI>;
  v8 hq[kChunks];
  for (int q = 0; q < kChunks; ++q) hq[q] = ld(p + L::kB1 + 8 * q);
  for (int32_t e = b.begin[r]; e < b.begin[r + 1]; ++e) {
    const float v = b.value[e];
    const float* w = p + L::kW1 + b.input[e] * kHiddenPad;
    for (int q = 0; q < kChunks; ++q) hq[q] += v * ld(w + 8 * q);
  }
  for (int q = 0; q < kChunks; ++q) st(h + 8 * q, relu(hq[q]));
  v8 even = ld(p + L::kB2), odd{};
  int k = 0;
  for (; k + 1 < hidden; k += 2) {
    even += h[k] * ld(w2t + k * kOutputPad);
    odd += h[k + 1] * ld(w2t + (k + 1) * kOutputPad);
  }
  if (k < hidden) even += h[k] * ld(w2t + k * kOutputPad);
  return even + odd;
}

template <int NI>
TENSION_INLINE void transpose_w2(const float* __restrict p, float* __restrict w2t) {
  for (int i = 0; i < kOutputPad; ++i) {
    for (int k = 0; k < kHiddenPad; ++k) w2t[k * kOutputPad + i] = p[Layout<NI>::kW2 + i * kHiddenPad + k];
  }
}

TENSION_INLINE float sum(const v8& v) {
  float s = 0;
  for (int i = 0; i < 8; ++i) s += v[i];
  return s;
}

// One Adam step over the whole parameter vector (torch.optim.Adam, single-tensor path):
// m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps).
template <int N>
TENSION_INLINE void adam_step(float* __restrict p, float* __restrict m, float* __restrict v,
                              const float* __restrict g, const AdamConfig& a, int64_t step) {
  const double bc1 = 1 - std::pow(a.beta1, static_cast<double>(step));
  const double bc2 = 1 - std::pow(a.beta2, static_cast<double>(step));
  const float beta1 = static_cast<float>(a.beta1), beta2 = static_cast<float>(a.beta2);
  const float one_b1 = static_cast<float>(1 - a.beta1), one_b2 = static_cast<float>(1 - a.beta2);
  const float step_size = static_cast<float>(a.lr / bc1), bc2_sqrt = static_cast<float>(std::sqrt(bc2));
  const float eps = static_cast<float>(a.eps);
  for (int k = 0; k < N; ++k) {
    m[k] = m[k] * beta1 + g[k] * one_b1;
    v[k] = v[k] * beta2 + g[k] * g[k] * one_b2;
    p[k] -= step_size * m[k] / (std::sqrt(v[k]) / bc2_sqrt + eps);
  }
}

template <int NI>
TENSION_INLINE double train_restart_impl(float* __restrict p, float* __restrict m, float* __restrict v,
                                         float* __restrict g, const SparseBatch* batches, int steps,
                                         int64_t first_step, const KernelConfig& c) {
  using L = Layout<NI>;
  alignas(64) float w2t[kHiddenPad * kOutputPad], h[kHiddenPad];
  alignas(32) float d[kOutputPad];
  const v8 importance = ld(c.importance);
  double total = 0;
  for (int s = 0; s < steps; ++s) {
    const SparseBatch& b = batches[s];
    std::memset(g, 0, L::kSize * sizeof(float));
    transpose_w2<NI>(p, w2t);
    const v8 scale = importance * (2.f / static_cast<float>(b.rows));  // d loss / d f' = 2 I (f' - f) / B
    v8 loss{}, gb2{};
    for (int64_t r = 0; r < b.distinct(); ++r) {
      const v8 pre = forward_row<NI>(p, w2t, b, r, c.hidden, h);
      const float w = b.weight[r];
      const v8 diff = relu(pre) - ld(b.target.data() + r * kOutputPad);
      loss += w * importance * diff * diff;
      const v8 dv = pre > 0 ? w * scale * diff : v8{};  // d loss / d pre-activation
      gb2 += dv;
      st(d, dv);
      v8 dh[kChunks] = {}, dh_odd[kChunks] = {};
      for (int i = 0; i < c.outputs; ++i) {
        axpy_h(d[i], h, g + L::kW2 + i * kHiddenPad);
        const float* w2 = p + L::kW2 + i * kHiddenPad;
        for (int q = 0; q < kChunks; ++q) (i % 2 ? dh_odd : dh)[q] += d[i] * ld(w2 + 8 * q);
      }
      for (int q = 0; q < kChunks; ++q) dh[q] = ld(h + 8 * q) > 0 ? dh[q] + dh_odd[q] : v8{};
      if (c.train_hidden_bias) {
        for (int q = 0; q < kChunks; ++q) st(g + L::kB1 + 8 * q, ld(g + L::kB1 + 8 * q) + dh[q]);
      }
      for (int32_t e = b.begin[r]; e < b.begin[r + 1]; ++e) {
        float* gw1 = g + L::kW1 + b.input[e] * kHiddenPad;
        for (int q = 0; q < kChunks; ++q) st(gw1 + 8 * q, ld(gw1 + 8 * q) + b.value[e] * dh[q]);
      }
    }
    st(g + L::kB2, gb2);
    adam_step<L::kSize>(p, m, v, g, c.adam, first_step + s + 1);
    total += sum(loss) / static_cast<double>(b.rows);
  }
  return total;
}

template <int NI>
TENSION_INLINE double batch_loss_impl(const float* __restrict p, const SparseBatch& b, const KernelConfig& c) {
  alignas(64) float w2t[kHiddenPad * kOutputPad], h[kHiddenPad];
  transpose_w2<NI>(p, w2t);
  const v8 importance = ld(c.importance);
  double total = 0;
  for (int64_t r = 0; r < b.distinct(); ++r) {
    const v8 diff = relu(forward_row<NI>(p, w2t, b, r, c.hidden, h)) - ld(b.target.data() + r * kOutputPad);
    total += static_cast<double>(b.weight[r]) * sum(importance * diff * diff);
  }
  return total;
}

TENSION_SIMD_CLONES double train_restart_8(float* p, float* m, float* v, float* g, const SparseBatch* b, int steps,
                                          int64_t first, const KernelConfig& c) {
  return train_restart_impl<8>(p, m, v, g, b, steps, first, c);
}
TENSION_SIMD_CLONES double train_restart_16(float* p, float* m, float* v, float* g, const SparseBatch* b, int steps,
                                           int64_t first, const KernelConfig& c) {
  return train_restart_impl<16>(p, m, v, g, b, steps, first, c);
}
TENSION_SIMD_CLONES double batch_loss_8(const float* p, const SparseBatch& b, const KernelConfig& c) {
  return batch_loss_impl<8>(p, b, c);
}
TENSION_SIMD_CLONES double batch_loss_16(const float* p, const SparseBatch& b, const KernelConfig& c) {
  return batch_loss_impl<16>(p, b, c);
}

template <int NI>
PaddedLayout layout_of() {
  using L = Layout<NI>;
  return {NI, L::kW1, L::kB1, L::kW2, L::kB2, L::kSize};
}

}  // namespace

PaddedLayout PaddedLayout::for_inputs(int inputs) {
  if (inputs < 1 || inputs > 16) {
    throw Error("the toy trainer takes 1 to 16 inputs, not " + std::to_string(inputs));
  }
  return inputs <= 8 ? layout_of<8>() : layout_of<16>();
}

double train_restart(const PaddedLayout& layout, float* params, float* exp_avg, float* exp_avg_sq, float* grad,
                     const SparseBatch* batches, int steps, int64_t first_step, const KernelConfig& config) {
  return layout.inputs_pad == 8
             ? train_restart_8(params, exp_avg, exp_avg_sq, grad, batches, steps, first_step, config)
             : train_restart_16(params, exp_avg, exp_avg_sq, grad, batches, steps, first_step, config);
}

double batch_loss_sum(const PaddedLayout& layout, const float* params, const SparseBatch& batch,
                      const KernelConfig& config) {
  return layout.inputs_pad == 8 ? batch_loss_8(params, batch, config) : batch_loss_16(params, batch, config);
}

}  // namespace tension::toy
