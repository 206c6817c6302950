#pragma once
// A run store's model and dataset, rebuilt from its config for the commands that read a run (select, ...).
#include <memory>

#include "tension/cli/common.h"
#include "tension/data/dataset.h"
#include "tension/store/run_store.h"

namespace tension::cli {

struct RunInputs {
  std::unique_ptr<store::RunStore> store;
  std::unique_ptr<model::Model> model;
  std::unique_ptr<data::Dataset> data;
};

// Throws tension::Error when the run has no store, or the model weights or dataset listing changed since.
RunInputs open_run_inputs(const std::string& run_dir);

// A feature of the run by index ("0") or spec ("conv3:5"), and a layer likewise.
size_t run_feature_index(const store::RunStore& st, const std::string& which);
size_t run_layer_index(const store::RunStore& st, const std::string& which);

}  // namespace tension::cli
