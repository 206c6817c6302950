#pragma once
// What `tension weights` and the demo write of weight signs: weights.csv, the Fig. 12 figure and run.json's
// results.weight_signs.
#include <string>
#include <vector>

#include "tension/analysis/weight_signs.h"
#include "tension/core/manifest.h"
#include "tension/model/model_source.h"

namespace tension::analysis {

void write_weight_outputs(const std::vector<WeightSigns>& all, RunManifest& run);

// `tension weights`: the weight signs of every model spec (loaded with `model`'s other options), written with
// write_weight_outputs.
void weights_run(const std::vector<std::string>& models, const model::ModelSource& model, RunManifest& run);

}  // namespace tension::analysis
