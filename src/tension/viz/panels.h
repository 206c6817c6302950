#pragma once
// The pictures of paper Fig. 5, batched: accentuations (from a seed image) and inversions (from noise) toward
// S+, S- or |S|, and plain feature visualisations (max, min). Panels that share a start (seed or noise) and a
// recipe are optimised together as one batch, one objective per batch item.
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include "tension/feature/feature.h"
#include "tension/model/model.h"
#include "tension/viz/attribution_target.h"
#include "tension/viz/opacity.h"
#include "tension/viz/optimize.h"

namespace tension::viz {

struct Panel {
  feature::Feature feature;
  Target target = Target::SPos;
  torch::Tensor seed;                       // [C, S, S] in [0, 1]: accentuation; undefined: from noise
  std::optional<Attribution> attribution;   // for s+, s- and abs
};

// The paper code's recipes (docs/paper-code.md §2.9, §2.10).
OptimizeOptions attribution_recipe();   // Adam lr 0.02, 121 steps, 16 draws
OptimizeOptions feature_recipe();       // Adam lr 0.05, 101 steps, 8 draws

struct PanelOptions {
  std::string param = "maco";   // maco, fourier or pixel
  int64_t canvas = 512;         // canvas side
  torch::Tensor spectrum;       // MACO from noise: [C, h, w'] (viz/spectrum.h)
  int cos_power = 1;            // eq. 5's p: 1 for accentuation and inversion (the paper's demo)
  uint64_t seed = 0;            // starts and draws of the first batch, +1000 per batch (the recipes' seeds are unused)
  OptimizeOptions attribution_optimize = attribution_recipe();  // s+, s-, abs
  OptimizeOptions feature_optimize = feature_recipe();          // max, min
  OpacityOptions attribution_opacity{/*clip_percent=*/3};
  OpacityOptions feature_opacity{/*clip_percent=*/8};
};
// Not the spectrum (a tensor).
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PanelOptions, param, canvas, cos_power, seed, attribution_optimize,
                                   feature_optimize, attribution_opacity, feature_opacity)

struct PanelResult {
  torch::Tensor image;      // [C, S, S] in (0, 1)
  torch::Tensor alpha;      // [1, S, S] opacity in [0, 1]
  std::vector<double> loss; // per step: the minimised loss (minus the objective)
  std::vector<double> fv;   // per step: the panel's feature on the step's image
};

// Optimises every panel; results in panel order. Each batch's monitor records the panels' features.
std::vector<PanelResult> optimize_panels(model::Model& m, const std::vector<Panel>& panels, const PanelOptions& opt);

// The paper's canvas-to-input ratio (512 for 224) at any input size, rounded to an even side: 64 for 28.
int64_t default_canvas(const model::InputSpec& input);

// What a figure shows of a result: RGBA [4, S, S], the image stretched to [0, 1] (the paper's display) and the
// opacity as alpha.
torch::Tensor display_image(const PanelResult& r);

// "accentuation", "inversion" or "visualisation": what a panel is called.
std::string panel_kind(const Panel& p);

}  // namespace tension::viz
