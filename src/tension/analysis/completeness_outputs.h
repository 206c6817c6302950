#pragma once
// What `tension completeness` and the demo write of completeness results: completeness.csv and .json, the
// Fig. 3 / Fig. 13 figure, and run.json's results.completeness.
#include <string>
#include <vector>

#include "tension/analysis/completeness.h"
#include "tension/core/manifest.h"
#include "tension/model/model_source.h"

namespace tension::analysis {

void write_completeness_outputs(const std::vector<CompletenessResult>& results, RunManifest& run);

struct CompletenessRunOptions {
  std::vector<std::string> models;   // model specs, each loaded with `model`'s other options
  model::ModelSource model;
  std::string data;
  CompletenessOptions completeness;  // its seed is the model's
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(CompletenessRunOptions, models, model, data, completeness)

// `tension completeness`: every model over the dataset, written with write_completeness_outputs.
void completeness_run(const CompletenessRunOptions& opt, RunManifest& run);

}  // namespace tension::analysis
