#include "tension/core/moments.h"

#include <cmath>

#include "tension/core/error.h"

namespace tension {

namespace {

double mean_of(const std::vector<double>& values) {
  if (values.empty()) throw Error("no values to take the mean and standard deviation of");
  double sum = 0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

}  // namespace

double sample_sd(const std::vector<double>& values) {
  const double mean = mean_of(values);
  if (values.size() < 2) return 0.0;
  double var = 0;
  for (double v : values) var += (v - mean) * (v - mean);
  return std::sqrt(var / static_cast<double>(values.size() - 1));
}

Moments moments(const std::vector<double>& values) { return {mean_of(values), sample_sd(values)}; }

void MomentsAccumulator::add(double count, double mean, double squared_deviations) {
  if (count <= 0) return;
  const double n = n_ + count, delta = mean - mean_;
  m2_ += squared_deviations + delta * delta * n_ * count / n;
  mean_ += delta * count / n;
  n_ = n;
}

Moments MomentsAccumulator::moments() const {
  if (n_ <= 0) throw Error("no values to take the mean and standard deviation of");
  return {mean_, n_ < 2 ? 0.0 : std::sqrt(m2_ / (n_ - 1))};
}

}  // namespace tension
