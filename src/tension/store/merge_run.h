#pragma once
// `tension merge RUN SHARD...`: the parts of a pass made with `tension attribute --shard I/N` (on machines that share
// no MPI) joined into one run store, equal to the store a single pass would have written.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "tension/core/manifest.h"

namespace tension::store {

struct MergeOptions {
  std::vector<std::string> shards;  // run folders written with --shard
  // Merge even when an image of the dataset is in no shard (a gap) or in two (an overlap), listing them in run.json;
  // without it, either is an error.
  bool report = false;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(MergeOptions, shards, report)

// Joins the shards into run.dir()/store.sqlite. Refuses, before writing anything, shards of another configuration
// (model, data, features, layers, options) or another number of parts, a shard being written (its lock is held),
// and gaps or overlaps unless opt.report. Merging again into the same folder is safe: rows of the same key are
// replaced by equal ones.
void merge_run(const MergeOptions& opt, RunManifest& run);

}  // namespace tension::store
