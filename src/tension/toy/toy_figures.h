#pragma once
// The toy-model figures, drawn by gnuplot (render/line_plot.h runs it; the .gp and .dat stay beside the
// PNG and SVG): attribution matrices (Fig. 7) and domain losses by active features (Fig. 15).
#include <array>
#include <string>
#include <vector>

#include "tension/toy/attribution_matrix.h"
#include "tension/toy/domain_loss.h"

namespace tension::toy {

// The paper's ± colour scale (Fig. 4b; docs/paper-code.md §2.6) for normalised E+ and E- in
// [0, 1]: colour jet((E+ - E- + 1) / 2) at opacity max(E+, E-), over white. Red = excitation, blue =
// inhibition, green = both, white = neither. Returns RGB in [0, 1].
std::array<double, 3> posneg_colour(double pos, double neg);

struct MatrixPanel {
  std::string title;  // e.g. "m = 12"
  AttributionMatrix matrix;
};

// Fig. 7 (one task): the column-normalised matrices side by side, then the colour legend.
void write_attribution_figure(const std::string& stem, const std::string& title,
                              const std::vector<MatrixPanel>& panels);

struct LossSeries {
  std::string name;            // e.g. "m = 12"
  std::vector<LossBox> boxes;  // by active features
};

// Fig. 15 (one task): box plots of the domain losses by number of active features, one box per series.
void write_domain_loss_figure(const std::string& stem, const std::string& title,
                              const std::vector<LossSeries>& series);

}  // namespace tension::toy
