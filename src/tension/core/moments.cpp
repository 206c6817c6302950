#include "tension/core/moments.h"

#include <cmath>

#include "tension/core/error.h"

namespace tension {

DoubleSource double_source(const std::vector<double>& values) {
  return [&values](const std::function<void(double)>& emit) {
    for (double v : values) emit(v);
  };
}

Moments moments(const DoubleSource& values) {
  double sum = 0, n = 0;
  values([&](double v) {
    sum += v;
    n += 1;
  });
  if (n == 0) throw Error("no values to take the mean and standard deviation of");
  const double mean = sum / n;
  if (n < 2) return {mean, 0.0};
  double var = 0;
  values([&](double v) { var += (v - mean) * (v - mean); });
  return {mean, std::sqrt(var / (n - 1))};
}

double sample_sd(const std::vector<double>& values) { return moments(double_source(values)).sd; }

Moments moments(const std::vector<double>& values) { return moments(double_source(values)); }

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
