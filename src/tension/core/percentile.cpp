#include "tension/core/percentile.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "tension/core/error.h"

namespace tension {

namespace {

template <typename T>
double percentile_of(std::vector<T> values, double p) {
  if (values.empty()) throw Error("percentile of an empty set");
  if (!(p >= 0 && p <= 100)) throw Error("percentile " + std::to_string(p) + " is outside [0, 100]");
  const double pos = p / 100.0 * static_cast<double>(values.size() - 1);
  const auto i = static_cast<size_t>(std::floor(pos));
  const size_t j = std::min(i + 1, values.size() - 1);
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(i), values.end());
  const double vi = values[i];
  const double vj = j == i ? vi : *std::min_element(values.begin() + static_cast<std::ptrdiff_t>(i) + 1, values.end());
  return vi + (pos - static_cast<double>(i)) * (vj - vi);
}

}  // namespace

double percentile(std::vector<float> values, double p) { return percentile_of(std::move(values), p); }
double percentile(std::vector<double> values, double p) { return percentile_of(std::move(values), p); }

}  // namespace tension
