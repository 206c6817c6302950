#include "tension/core/moments.h"

#include <cmath>

#include "tension/core/error.h"

namespace tension {

Moments moments(const std::vector<double>& values) {
  if (values.empty()) throw Error("no values to take the mean and standard deviation of");
  const double n = static_cast<double>(values.size());
  double mean = 0;
  for (double v : values) mean += v;
  mean /= n;
  double var = 0;
  for (double v : values) var += (v - mean) * (v - mean);
  return {mean, values.size() > 1 ? std::sqrt(var / (n - 1)) : 0.0};
}

}  // namespace tension
