#pragma once
// Is a toy model performant (App. G, Fig. 15)? Its loss on every input of the task's domain, grouped by the
// number of active features (non-zero ground-truth outputs).
#include <torch/torch.h>

#include <vector>

#include "tension/toy/toy_model.h"
#include "tension/toy/toy_task.h"

namespace tension::toy {

// Every input of the domain as [N, inputs]: {0, 1, -1}^n for abs (3^n rows), {0, 1}^2n for XOR (4^n rows).
torch::Tensor exhaustive_domain(const ToyTask& task);

struct DomainLosses {
  torch::Tensor loss;    // [N] float64: sum_i I_i (f_i - f'_i)^2 of each input (eq. 9 for one row)
  torch::Tensor active;  // [N] int64: how many of the input's ground-truth outputs are non-zero
};

DomainLosses domain_losses(const ToyTask& task, const ToyModel& m);

// A box plot's numbers for the losses with one count of active features: quartiles by linear interpolation
// (numpy's default), whiskers at the most extreme losses within 1.5 IQR of the box (Tukey).
struct LossBox {
  int64_t active = 0, count = 0;
  double min = 0, q1 = 0, median = 0, q3 = 0, max = 0, whisker_low = 0, whisker_high = 0, mean = 0;
  std::vector<double> outliers;  // losses beyond the whiskers
};

// One box per count of active features present, in increasing order.
std::vector<LossBox> loss_boxes(const DomainLosses& d);

}  // namespace tension::toy
