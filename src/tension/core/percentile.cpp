#include "tension/core/percentile.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#include "tension/core/error.h"

namespace tension {

namespace {

void check_p(double p) {
  if (!(p >= 0 && p <= 100)) throw Error("percentile " + std::to_string(p) + " is outside [0, 100]");
}

// numpy's linear rule: the order statistics at floor(pos) and the next one, pos = p / 100 * (n - 1).
double interpolate(double pos, size_t i, double vi, double vj) {
  return vi + (pos - static_cast<double>(i)) * (vj - vi);
}

template <typename T>
double percentile_of(std::vector<T> values, double p) {
  if (values.empty()) throw Error("percentile of an empty set");
  check_p(p);
  const double pos = p / 100.0 * static_cast<double>(values.size() - 1);
  const auto i = static_cast<size_t>(std::floor(pos));
  const size_t j = std::min(i + 1, values.size() - 1);
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(i), values.end());
  const double vi = values[i];
  const double vj = j == i ? vi : *std::min_element(values.begin() + static_cast<std::ptrdiff_t>(i) + 1, values.end());
  return interpolate(pos, i, vi, vj);
}

// A float's bits as an unsigned key in the floats' order (negatives reversed below the positives).
uint32_t key_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return (u >> 31) ? ~u : (u | 0x80000000u);
}

float float_of(uint32_t key) {
  const uint32_t u = (key >> 31) ? (key & 0x7fffffffu) : ~key;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

using Histogram = std::vector<uint64_t>;  // 2^16 bins

// The bin holding the value of 0-based rank `rank`, and the value's rank within the bin.
std::pair<uint32_t, uint64_t> bin_of_rank(const Histogram& h, uint64_t rank) {
  for (uint32_t b = 0; b < h.size(); ++b) {
    if (rank < h[b]) return {b, rank};
    rank -= h[b];
  }
  throw Error("percentile: rank past the values (the stream changed between passes)");
}

}  // namespace

double percentile(std::vector<float> values, double p) { return percentile_of(std::move(values), p); }
double percentile(std::vector<double> values, double p) { return percentile_of(std::move(values), p); }

std::vector<std::vector<double>> percentiles(const FloatSpans& values, const std::vector<std::vector<double>>& ps) {
  for (const auto& s : ps) {
    for (double p : s) check_p(p);
  }
  const size_t streams = ps.size();
  // Pass 1: the high 16 bits of every key.
  std::vector<Histogram> high(streams, Histogram(1u << 16));
  std::vector<uint64_t> count(streams, 0);
  values([&](size_t s, const float* v, size_t n) {
    if (s >= streams) return;
    auto& h = high[s];
    for (size_t i = 0; i < n; ++i) {
      if (std::isnan(v[i])) throw Error("percentile of a set that holds NaN");
      ++h[key_of(v[i]) >> 16];
    }
    count[s] += n;
  });
  // Each percentile needs two order statistics; each lies in one bin of the high bits.
  struct Rank {
    uint32_t bin;
    uint64_t within;
  };
  std::vector<std::vector<std::array<Rank, 2>>> ranks(streams);
  std::vector<std::vector<std::pair<uint32_t, Histogram>>> low(streams);  // the bins to refine, per stream
  for (size_t s = 0; s < streams; ++s) {
    if (ps[s].empty()) continue;
    if (count[s] == 0) throw Error("percentile of an empty set");
    for (double p : ps[s]) {
      const double pos = p / 100.0 * static_cast<double>(count[s] - 1);
      const auto i = static_cast<uint64_t>(std::floor(pos)), j = std::min<uint64_t>(i + 1, count[s] - 1);
      std::array<Rank, 2> r;
      for (int k = 0; k < 2; ++k) {
        auto [bin, within] = bin_of_rank(high[s], k == 0 ? i : j);
        r[k] = {bin, within};
        auto& bins = low[s];
        if (std::none_of(bins.begin(), bins.end(), [&](const auto& b) { return b.first == bin; })) {
          bins.emplace_back(bin, Histogram(1u << 16));
        }
      }
      ranks[s].push_back(r);
    }
  }
  high.clear();
  // Pass 2: the low 16 bits of the keys in those bins.
  values([&](size_t s, const float* v, size_t n) {
    if (s >= streams || low[s].empty()) return;
    auto& bins = low[s];
    for (size_t i = 0; i < n; ++i) {
      const uint32_t key = key_of(v[i]);
      for (auto& [bin, h] : bins) {
        if (bin == key >> 16) ++h[key & 0xffffu];
      }
    }
  });
  std::vector<std::vector<double>> out(streams);
  for (size_t s = 0; s < streams; ++s) {
    for (size_t q = 0; q < ps[s].size(); ++q) {
      double v[2];
      for (int k = 0; k < 2; ++k) {
        const auto& r = ranks[s][q][k];
        const auto& h = std::find_if(low[s].begin(), low[s].end(), [&](const auto& b) { return b.first == r.bin; })
                            ->second;
        v[k] = float_of((r.bin << 16) | bin_of_rank(h, r.within).first);
      }
      const double pos = ps[s][q] / 100.0 * static_cast<double>(count[s] - 1);
      out[s].push_back(interpolate(pos, static_cast<size_t>(std::floor(pos)), v[0], v[1]));
    }
  }
  return out;
}

}  // namespace tension
