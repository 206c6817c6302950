#pragma once
// The pictures of paper Fig. 5, batched: accentuations (from a seed image) and inversions (from noise) toward
// S+, S- or |S|, and plain feature visualisations (max, min). Panels that share a start (seed or noise) and a
// recipe render together as one batch, one objective per batch item.
#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include "tension/feature/feature.h"
#include "tension/model/model.h"
#include "tension/viz/attribution_target.h"
#include "tension/viz/opacity.h"
#include "tension/viz/render.h"

namespace tension::viz {

struct Panel {
  feature::Feature feature;
  Target target = Target::SPos;
  torch::Tensor seed;                       // [C, S, S] in [0, 1]: accentuation; undefined: from noise
  std::optional<Attribution> attribution;   // for s+, s- and abs
};

// The paper code's recipes (docs/paper-code.md §2.9, §2.10).
RenderOptions attribution_recipe();   // Adam lr 0.02, 121 steps, 16 draws
RenderOptions feature_recipe();       // Adam lr 0.05, 101 steps, 8 draws

struct PanelOptions {
  TORCH_ARG(std::string, param) = "maco";  // maco, fourier or pixel
  TORCH_ARG(int64_t, canvas) = 512;        // canvas side
  TORCH_ARG(torch::Tensor, spectrum);      // MACO from noise: [C, h, w'] (viz/spectrum.h)
  TORCH_ARG(int, cos_power) = 1;           // eq. 5's p: 1 for accentuation and inversion (the paper's demo)
  TORCH_ARG(uint64_t, seed) = 0;
  TORCH_ARG(RenderOptions, attribution_render) = attribution_recipe();
  TORCH_ARG(RenderOptions, feature_render) = feature_recipe();
  TORCH_ARG(OpacityOptions, attribution_opacity) = OpacityOptions().clip_percent(3);
  TORCH_ARG(OpacityOptions, feature_opacity) = OpacityOptions().clip_percent(8);
};

struct PanelResult {
  torch::Tensor image;      // [C, S, S] in (0, 1)
  torch::Tensor alpha;      // [1, S, S] opacity in [0, 1]
  std::vector<double> loss; // per step: the minimised loss (minus the objective)
  std::vector<double> fv;   // per step: the panel's feature on the step's image
};

// Renders every panel; results in panel order. Each batch's monitor records the panels' features.
std::vector<PanelResult> render_panels(model::Model& m, const std::vector<Panel>& panels, const PanelOptions& opt);

// The paper's canvas-to-input ratio (512 for 224) at any input size, rounded to an even side: 64 for 28.
int64_t default_canvas(const model::InputSpec& input);

// What a figure shows of a result: RGBA [4, S, S], the image stretched to [0, 1] (the paper's display) and the
// opacity as alpha.
torch::Tensor display_image(const PanelResult& r);

// "accentuation", "inversion" or "visualisation": what a panel is called.
std::string panel_kind(const Panel& p);

}  // namespace tension::viz
