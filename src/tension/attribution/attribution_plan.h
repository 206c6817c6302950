#pragma once
// What the attributor plans before its first batch (footprints, the input crop, the layer windows, each
// speed-up checked against the plain computation), as data: kept in a run store so that resuming, select and
// atlas never plan again, and cached under the user's cache folder so that later commands on the same model,
// features, layers and input size do not either.
#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tension/model/receptive_field.h"

namespace tension::attribution {

struct AttributionPlan {
  std::vector<std::vector<model::Box>> footprints;  // [feature][layer]
  model::Box crop;                  // the input crop; empty: the whole input
  std::map<std::string, int64_t> crop_stride;  // per tap ("layer", "layer:in"): input pixels per position
  std::vector<model::Box> crop_needed;  // per feature: its position on the full input (with a crop)
  int suffix_margin = -1;           // layer windows widened by this many strides; -1: windows not used
  bool verified = true;             // the crop and windows were checked equal to the plain computation
};

// The plan of one feature and one attribution layer of a run's plan (the atlas's second pass): its footprint,
// the run's input crop (which covers every feature's field, so this one's too) and layer windows.
AttributionPlan plan_of(const AttributionPlan& run_plan, size_t feature, size_t layer);

void to_json(nlohmann::json& j, const AttributionPlan& p);
void from_json(const nlohmann::json& j, AttributionPlan& p);

// The cached plan under `key` in dir (dir/plans/KEY.json); nullopt when absent or unreadable (a corrupt entry is
// logged and rebuilt by the caller).
std::optional<AttributionPlan> load_cached_plan(const std::string& dir, const std::string& key);
// Writes it atomically (a temporary file renamed); a failure is logged, never thrown: the cache is optional.
void save_cached_plan(const std::string& dir, const std::string& key, const AttributionPlan& plan);

}  // namespace tension::attribution
