#pragma once
// What the attributor plans before its first batch (footprints, the input crop, the layer windows, each
// speed-up checked against the plain computation), as data: kept in a run store so that resuming, select and
// atlas never plan again, and cached under the user's cache folder so that later commands on the same model,
// features, layers and input size do not either.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "tension/model/receptive_field.h"

namespace tension::attribution {

struct AttributionPlan {
  std::vector<std::vector<model::Box>> footprints;  // [feature][layer]
  model::Box crop;                  // the input crop; empty: the whole input
  std::vector<int64_t> crop_stride; // per tap of the attributor: input pixels per position (with a crop)
  std::vector<model::Box> crop_needed;  // per feature: its position on the full input (with a crop)
  int suffix_margin = -1;           // layer windows widened by this many strides; -1: windows not used
  bool verified = true;             // the crop and windows were checked equal to the plain computation
};

void to_json(nlohmann::json& j, const AttributionPlan& p);
void from_json(const nlohmann::json& j, AttributionPlan& p);

// The cached plan under `key` in dir (dir/plans/KEY.json); nullopt when absent or unreadable (a corrupt entry is
// logged and rebuilt by the caller).
std::optional<AttributionPlan> load_cached_plan(const std::string& dir, const std::string& key);
// Writes it atomically (a temporary file renamed); a failure is logged, never thrown: the cache is optional.
void save_cached_plan(const std::string& dir, const std::string& key, const AttributionPlan& plan);

}  // namespace tension::attribution
