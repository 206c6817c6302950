#pragma once
// Percentiles as numpy computes them by default (linear interpolation between order statistics).
#include <cstddef>
#include <functional>
#include <vector>

namespace tension {

// p in [0, 100]; throws tension::Error for an empty set or p outside [0, 100].
double percentile(std::vector<float> values, double p);
double percentile(std::vector<double> values, double p);

// Several streams of floats replayed on demand: each call passes every value of every stream, in the same order
// each time, as emit(stream, values, count).
using FloatSpans = std::function<void(const std::function<void(size_t stream, const float* values, size_t n)>& emit)>;

// result[s][j]: the percentile ps[s][j] of stream s, equal to percentile() of the stream's values, in memory that
// does not grow with their number (pooled percentiles over every position of a million rows): two passes of a
// radix selection over the floats' bits, 16 high bits then 16 low ones. Throws tension::Error for an empty stream,
// a NaN, or p outside [0, 100].
std::vector<std::vector<double>> percentiles(const FloatSpans& values, const std::vector<std::vector<double>>& ps);

}  // namespace tension
