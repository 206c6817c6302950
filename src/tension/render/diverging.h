#pragma once
// The atlas's diverging colour scale (docs/paper-code.md §2.11 steps 6 and stage 4): matplotlib's
// RdBu_r, its centre blended toward light grey, under a two-slope norm centred at 0.
#include <array>

namespace tension::render {

using Rgb = std::array<double, 3>;  // in [0, 1]

// matplotlib's RdBu_r at t in [0, 1] (blue low, red high), with the paper code's change: the 50 of 256 entries
// either side of the centre blend linearly toward (0.9, 0.9, 0.9), fully at the centre.
Rgb rdbu_r_grey(double t);

// matplotlib's TwoSlopeNorm(vmin = lo, vcenter = 0, vmax = hi): lo -> 0, 0 -> 0.5, hi -> 1, clipped. lo < 0 < hi.
double two_slope(double v, double lo, double hi);

// That scale in five stops, at t = 0, 0.25, 0.5, 0.75 and 1, for gnuplot palettes and Vega-Lite scales.
inline constexpr std::array<const char*, 5> kDivergingStops = {"#053061", "#4393c3", "#e5e5e5", "#d6604d",
                                                               "#67001f"};

// The colour of value v on that scale.
inline Rgb diverging_colour(double v, double lo, double hi) { return rdbu_r_grey(two_slope(v, lo, hi)); }

}  // namespace tension::render
