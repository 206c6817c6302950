#pragma once
// What `tension weights` and the demo write of weight signs: weights.csv, the Fig. 12 figure and run.json's
// results.weight_signs.
#include <vector>

#include "tension/analysis/weight_signs.h"
#include "tension/core/manifest.h"

namespace tension::analysis {

void write_weight_outputs(const std::vector<WeightSigns>& all, RunManifest& run);

}  // namespace tension::analysis
