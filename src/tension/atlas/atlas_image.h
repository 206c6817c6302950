#pragma once
// The atlas picture (paper Fig 6c; docs/paper-code.md §2.11 stage 4): each icon cropped to the
// feature's receptive field, its opacity applied over white, a border in the colour of its own f_v, placed in its
// grid cell with the layout's y axis pointing up.
#include <torch/torch.h>

#include <vector>

#include "tension/atlas/grid.h"
#include "tension/atlas/icons.h"
#include "tension/core/moments.h"
#include "tension/model/receptive_field.h"

namespace tension::atlas {

struct TileOptions {
  int64_t px = 80;            // icon side in the atlas (the paper code: 160, its config 80)
  int64_t border = 0;         // border width in pixels; 0: px / 16 (5 at 80), at least 1
  double fv_lo = -1, fv_hi = 1;  // the colour scale's limits (mean -/+ 7 sd of the dataset's f_v)
};

// The icon's receptive-field crop (`rf` in the model's input pixels, scaled to the icon's canvas; empty: the
// whole canvas), resized to px x px, alpha-composited over white, with an f_v-coloured border: [3, px, px].
torch::Tensor icon_tile(const Icon& icon, const model::Box& rf, const model::InputSpec& input, const TileOptions& opt);

// The n x n atlas [3, n * px, n * px] on white: tile k goes to cell (cells[k].xi, cells[k].yi), at column block xi
// and row block n - 1 - yi.
torch::Tensor compose_atlas(const std::vector<IconCell>& cells, const std::vector<torch::Tensor>& tiles, int n);

// The colour limits of the paper code: mean -/+ 7 sd of f_v over the dataset, widened to keep 0 strictly inside.
// Throws tension::Error for no values.
std::pair<double, double> fv_colour_limits(const DoubleSource& fv, double sds = 7);

}  // namespace tension::atlas
