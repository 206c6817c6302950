#pragma once
// `tension eval`: top-1 accuracy of a classifier on a labelled dataset, recorded in a run.
#include <nlohmann/json.hpp>

#include <string>

#include "tension/core/manifest.h"
#include "tension/model/model_source.h"
#include "tension/train/classifier.h"

namespace tension::train {

struct EvalOptions {
  model::ModelSource model;
  std::string data;
  int64_t batch_size = 256;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(EvalOptions, model, data, batch_size)

// Loads the model and the dataset and measures the accuracy; records it in `run` when given.
Accuracy eval_run(const EvalOptions& opt, RunManifest* run);

}  // namespace tension::train
