#pragma once
// `tension select` as a library call: a run's feature and layer in; the rules' selections, their grids and
// overlays, the (E+, E-) scatter, the interactive page and, on request, MEI/MII rows out (paper §3, Fig 2, Fig 4).
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "tension/analysis/feature_view.h"
#include "tension/analysis/selection_outputs.h"
#include "tension/core/manifest.h"

namespace tension::analysis {

struct SelectOptions {
  std::string run;                      // a run folder written by `tension attribute`
  std::string feature = "0", layer = "0";  // the run's feature and layer, by index or name
  std::vector<std::string> rules{"mei", "mii", "zero", "spatial", "channel", "mti"};
  SelectionOutputOptions selection;
  FeatureViewOptions view;
  int64_t rows = 0;                     // MEI and MII rows of this many images for every feature of the run (0: none)
  std::string device = "cpu";           // where the model runs; not recorded
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SelectOptions, run, feature, layer, rules, selection, view, rows)

// Writes everything into run.dir() and its record into run.json (results: images per rule, and the crop).
void select_run(const SelectOptions& opt, RunManifest& run);

}  // namespace tension::analysis
