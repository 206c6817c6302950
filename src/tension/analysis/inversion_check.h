#pragma once
// Paper App. F (Fig. 14): do attribution inversions excite and inhibit the feature they were made for? Per layer,
// random units; per unit, its MTIs in a dataset; per (unit, MTI), an inversion toward S+ and one toward S- of the
// MTI's attribution through a preceding layer, with f_v of the inversion's image recorded at every step in the
// unit's standard deviations over the dataset. All inversions of a layer are optimised in batches (viz::optimize);
// finished (unit, MTI) pairs are kept in curves.csv, so an interrupted check resumes where it stopped.
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "tension/data/dataset.h"
#include "tension/model/model.h"
#include "tension/viz/panels.h"

namespace tension::analysis {

struct InversionCheckOptions {
  std::vector<std::string> layers;    // the units' layers (f_v read as feature specs read it)
  // Per layer, the layer the inversion goes through (a tap); empty: through_layer's default for every layer.
  std::vector<std::string> through;
  int64_t units = 20;                 // random units per layer (all of them when the layer has fewer)
  int64_t mtis = 10;                  // MTIs per unit
  size_t search_images = 0;           // the MTI search and sd(f_v) read the first N images (0 = all)
  // noise: inversions (App. F); mti: accentuations, seeded from the MTI itself.
  std::string start = "noise";
  // Steps, lr, transformation draws (paper §2.9); its seed is not used (the draws come from `seed`).
  viz::OptimizeOptions optimize = viz::attribution_recipe();
  std::string param = "maco";
  int64_t canvas = 0;                 // 0: default_canvas of the model's input
  torch::Tensor spectrum;             // MACO from noise; undefined: estimated from the search images
  int cos_power = 1;                  // eq. 5's p
  int64_t batch = 64;                 // inversions per optimisation (two per pair); speed only
  uint64_t seed = 0;                  // units, starts, transformation draws
  size_t max_batches = 0;             // stop after optimising this many batches (0: run to the end)
  bool progress = true;
};
// Not the spectrum (a tensor) or the progress bar.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(InversionCheckOptions, layers, through, units, mtis, search_images, start,
                                   optimize, param, canvas, cos_power, batch, seed, max_batches)

struct InversionLayerSummary {
  std::string layer, through;
  int64_t units = 0;
  size_t pairs = 0;           // (unit, MTI) pairs
  double s_pos_raised = 0;    // fraction of pairs whose S+ inversion ends with f_v above its start
  double s_neg_lowered = 0;   // ... whose S- inversion ends below its start
  double both = 0;            // ... where both hold
  double s_pos_median_end = 0, s_neg_median_end = 0;  // median f_v / sd at the last step
};

struct InversionCheckResult {
  bool complete = false;      // false: stopped by max_batches; rerun to go on
  size_t pairs_done_before = 0, pairs_rendered = 0;
  std::vector<InversionLayerSummary> layers;  // when complete
};

// The layer the inversions of layers[i] go through: through[i] when given; otherwise the layer listed before it,
// and for the first the model's input (its first layer's input tap).
std::string through_layer(const model::Model& m, const std::vector<std::string>& layers,
                          const std::vector<std::string>& through, size_t i);

// The random streams of one inversion depend on its key alone, not on the batch it is optimised in: the start of
// (layer i, unit, MTI rank) (its S+ and S- inversions start alike), and the transformation draws of layer i.
uint64_t inversion_start_seed(uint64_t seed, size_t layer, int64_t unit, size_t rank);
uint64_t inversion_draws_seed(uint64_t seed, size_t layer);

// Runs the check into `dir`: protocol.json (what decides the numbers; a rerun with other options fails), mtis.csv
// (per layer, unit and rank: the MTI and sd(f_v)), curves.csv (layer, through, unit, image, sign, step, fv,
// fv_sd = fv / sd), and once complete fig14.{png,svg,gp,dat} (per layer: median and range over pairs, S+ and S-)
// and summary.{csv,json}.
InversionCheckResult inversion_check(model::Model& m, const data::Dataset& ds, const InversionCheckOptions& opt,
                                     const std::string& dir);

}  // namespace tension::analysis
