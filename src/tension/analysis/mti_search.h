#pragma once
// Seeds for accentuation and inversion when no run store is at hand: per feature, a maximally tense image of a
// dataset's first images (paper §4: large ||S||_1 with f_v slightly negative). The demo and the App. F test use
// it; both it and `tension select --rule mti` apply analysis::select's mti rule.
#include <vector>

#include "tension/attribution/attributor.h"
#include "tension/data/dataset.h"

namespace tension::analysis {

struct MtiPick {
  size_t index = 0;   // dataset index
  double fv = 0;      // the feature's value on it
  double sd = 0;      // standard deviation of f_v over the images searched (analysis::fv_sd)
  bool in_window = false;  // false: no image had -0.5 sd < f_v < 0, and this is the largest ||S||_1 overall
};

// For each feature of `a`, the k images of largest ||S||_1 at the attributor's first layer with
// -0.5 sd(f_v) < f_v < 0 (docs/design.md on the paper's empty interval) among the first `limit` images of `ds`, best
// first; when fewer than k lie in that window, the rest are the largest ||S||_1 outside it (in_window false).
std::vector<std::vector<MtiPick>> find_mti_sets(attribution::Attributor& a, const data::Dataset& ds, size_t limit,
                                                size_t k);

// The best MTI of each feature: find_mti_sets with k = 1.
std::vector<MtiPick> find_mtis(attribution::Attributor& a, const data::Dataset& ds, size_t limit);

}  // namespace tension::analysis
