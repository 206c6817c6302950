#pragma once
// The mean and standard deviation of a list of values: the one standard deviation of f_v (and of any list) that
// tension takes.
#include <functional>
#include <vector>

namespace tension {

// Values replayed on demand: each call passes every value to `emit`, in the same order each time. Lets a statistic
// read a set too large to keep (a run's rows, streamed from its store) in as many passes as it needs.
using DoubleSource = std::function<void(const std::function<void(double)>& emit)>;
// A list as a source (the list must outlive it).
DoubleSource double_source(const std::vector<double>& values);

// Sample standard deviation, with n - 1 (torch.std's default, np.std(x, ddof=1)); 0 for a single value.
// Throws tension::Error for an empty list.
double sample_sd(const std::vector<double>& values);

struct Moments {
  double mean = 0;
  double sd = 0;  // sample_sd
};

// Throws tension::Error for an empty list.
Moments moments(const std::vector<double>& values);
// The same sums over a source, in two passes: equal, to the bit, to moments() of the list of its values.
Moments moments(const DoubleSource& values);

// The same mean and sample sd over values that arrive in chunks too many to keep (every crop of a dataset): each
// chunk gives its count, mean and sum of squared deviations, merged by Chan et al.'s pairwise update.
class MomentsAccumulator {
 public:
  void add(double count, double mean, double squared_deviations);
  double count() const { return n_; }
  Moments moments() const;  // throws tension::Error when nothing was added

 private:
  double n_ = 0, mean_ = 0, m2_ = 0;
};

}  // namespace tension
