#pragma once
// What `tension select` writes for one feature and layer of a run: selection.csv, a grid per rule (crops to
// the receptive field with their ± overlays), the (E+, E-) scatter with the selections circled, and the
// interactive page.
#include <string>
#include <vector>

#include "tension/analysis/feature_view.h"
#include "tension/analysis/selection.h"
#include "tension/core/manifest.h"

namespace tension::analysis {

struct SelectionRun {
  std::string spec;                 // as given, e.g. "spatial+mti"
  std::vector<Selected> selected;
  std::string shortfall;            // why fewer than k were selected (empty when k were)
};

struct SelectionOutputOptions {
  SelectionOptions rules;
  size_t page_points = 2000;   // points on the interactive page (every selected image, then an even sample)
  // points on the static scatter: every image up to this many, beyond it every selected one and an even sample (a
  // million points would hide each other, and cost memory that grows with the run)
  size_t scatter_points = 50000;
  // The paper normalises the phi+/phi- overlays across images (Fig. 4g): one scale pooled over every image shown
  // (all rules' grids and the page). Per-row scaling stretches each grid row to full colour, so that a row of
  // near-zero attributions looks as tense as the MTI row: only on request.
  bool per_row_scale = false;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SelectionOutputOptions, rules, page_points, scatter_points, per_row_scale)

// Applies each rule spec and writes everything into run.dir(); records the outputs in the manifest.
std::vector<SelectionRun> write_selection_outputs(const FeatureView& view, const std::vector<std::string>& rule_specs,
                                                  const SelectionOutputOptions& opt, RunManifest& run);

// MEI and MII rows (paper Fig 2): for each feature of the run, its top-k and bottom-k images by f_v at `layer`
// cropped to the receptive field, one row each, into one PNG.
void write_mei_mii_rows(const store::RunStore& store, model::Model& model, const data::Dataset& data, size_t layer,
                        const FeatureViewOptions& view, int64_t k, const std::string& png_path);

}  // namespace tension::analysis
