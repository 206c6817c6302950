#pragma once
// Percentiles as numpy computes them by default (linear interpolation between order statistics).
#include <vector>

namespace tension {

// p in [0, 100]; throws tension::Error for an empty set or p outside [0, 100].
double percentile(std::vector<float> values, double p);
double percentile(std::vector<double> values, double p);

}  // namespace tension
