#pragma once
// A run store's model and dataset, rebuilt from its config for the commands that read a run (select, ...).
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "tension/core/manifest.h"
#include "tension/data/dataset.h"
#include "tension/model/model.h"
#include "tension/store/run_store.h"

namespace tension::store {

struct RunInputs {
  std::unique_ptr<RunStore> store;
  std::unique_ptr<model::Model> model;
  std::unique_ptr<data::Dataset> data;
};

// The model runs on `device` (cpu, cuda, cuda:N). Throws tension::Error when the run has no store, or the model
// weights or dataset listing changed since.
RunInputs open_run_inputs(const std::string& run_dir, const std::string& device = "cpu");

// A feature of the run by index ("0") or spec ("conv3:5"), and a layer likewise.
size_t run_feature_index(const RunStore& st, const std::string& which);
size_t run_layer_index(const RunStore& st, const std::string& which);

// One feature and layer of a run, opened for a command that reads it (select, atlas): the run's inputs and the
// indices, with the command's run.json begun (its params, the resolved feature and layer, the run's config) and
// written as "running".
struct RunTarget {
  RunInputs in;
  size_t feature = 0, layer = 0;
};
RunTarget open_run_target(const std::string& run_dir, const std::string& device, const std::string& feature,
                          const std::string& layer, const nlohmann::json& params, RunManifest& run);

}  // namespace tension::store
