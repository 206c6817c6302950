#pragma once
// `tension attribute` as a library call: a model, a dataset, features and layers in; a resumable run store and
// its run.json out (the demo and the tests call it as the command does).
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "tension/core/cache_dir.h"
#include "tension/core/manifest.h"
#include "tension/model/model_source.h"
#include "tension/store/attribution_pass.h"

namespace tension::store {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Shard, index, count)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PassOptions, batch_size, decode_threads, keep_channels, keep_s, limit, shard)

struct AttributeOptions {
  model::ModelSource model;
  std::string data;                            // a dataset spec (data::open_dataset)
  std::vector<std::string> features, layers;   // feature specs; attribution layers (taps, or "input")
  int cos_power = 0;                           // direction features: dot*cos^p (0 = dot)
  PassOptions pass;
  bool verify = true;                          // check the plan's speed-ups (false: `--no-verify`)
  std::string plan_cache = user_cache_dir();   // where plans are cached; empty: none
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(AttributeOptions, model, data, features, layers, cos_power, pass, verify,
                                   plan_cache)

// Attributes every image of the dataset into run.dir()/store.sqlite, resuming what an earlier pass stored with
// the plan stored with it; throws tension::Error when the folder holds a run of another configuration.
void attribute_run(const AttributeOptions& opt, RunManifest& run);

}  // namespace tension::store
