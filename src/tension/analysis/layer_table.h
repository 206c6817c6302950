#pragma once
// The table `tension layers` prints and the demo page shows: every tap, its shape, centre-unit RF, whether every
// path from the input to the output crosses it (a cut: where completeness is measured), and on request the
// effective receptive field.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "tension/core/manifest.h"
#include "tension/model/model.h"
#include "tension/model/model_source.h"
#include "tension/model/receptive_field.h"

namespace tension::analysis {

struct LayerTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  nlohmann::json json;
};

// effective_field: also the centre unit's effective receptive field (model/effective_field.h) at the paper's two
// thresholds, 0.05 (figures) and 0.2 (the atlas): 300 forward and backward passes of 30 images per tap.
// rf: how the receptive fields are found (layer arithmetic where it covers the layers, or gradient supports).
LayerTable layer_table(model::Model& m, uint64_t seed, bool effective_field = false,
                       model::FieldMethod rf = model::FieldMethod::arithmetic);

// The table as `tension layers` prints it: a line on the model's input, then aligned columns.
std::string layer_table_text(const model::Model& m, const LayerTable& t);

struct LayersOptions {
  model::ModelSource model;
  bool effective_field = false;
  model::FieldMethod rf = model::FieldMethod::arithmetic;
  bool json = false;   // the text returned is the table's JSON
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(LayersOptions, model, effective_field, rf)

// `tension layers`: loads the model and returns its table as text (or JSON); with `run`, also writes layers.json
// and run.json in run->dir().
std::string layers_run(const LayersOptions& opt, RunManifest* run);

}  // namespace tension::analysis
