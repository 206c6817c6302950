#pragma once
// The table `tension layers` prints and the demo page shows: every tap, its shape, centre-unit RF, and whether
// every path from the input to the output crosses it (a cut: where completeness is measured).
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "tension/model/model.h"

namespace tension::cli {

struct LayerTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  nlohmann::json json;
};

LayerTable layer_table(model::Model& m, uint64_t seed);

}  // namespace tension::cli
