#pragma once
// The mean and sample standard deviation of a list of values.
#include <vector>

namespace tension {

struct Moments {
  double mean = 0;
  double sd = 0;  // with n - 1; 0 for a single value
};

// Throws tension::Error for an empty list.
Moments moments(const std::vector<double>& values);

}  // namespace tension
