#pragma once
// The atlas's two scatter figures, drawn by gnuplot (the .dat and .gp stay beside the PNG and SVG):
// Fig 6a, every image's (E+, E-) with density contours of the images the atlas selected, and Fig 6b, the UMAP
// layout coloured by f_v.
#include <functional>
#include <string>
#include <vector>

namespace tension::atlas {

struct EnergyPoint {
  double e_pos = 0, e_neg = 0, fv = 0;
};

// Every image of a run, one at a time: streamed into the figure's data file, never kept.
using EnergySource = std::function<void(const std::function<void(const EnergyPoint&)>& emit)>;

// Fig 6a. Contours at the densities (Gaussian kernel estimate, Scott's bandwidth) that enclose 90 %, 50 % and
// 10 % of the selected images. Throws tension::Error when gnuplot fails or there is nothing to draw.
void write_selection_figure(const std::string& stem, const std::string& title, const EnergySource& all,
                            const std::vector<EnergyPoint>& selected, double fv_lo, double fv_hi);

// Fig 6b: the normalised layout [n, 2] in [0, 1]^2, points in ascending |f_v| (strong ones on top), the n x n
// atlas grid faintly behind.
void write_layout_figure(const std::string& stem, const std::string& title, const std::vector<float>& xy,
                         const std::vector<double>& fv, double fv_lo, double fv_hi, int grid);

// The Gaussian kernel density of `pts` (x, y pairs) with per-axis bandwidths hx, hy at (x, y), unnormalised
// (the sum of the kernels).
double kernel_density(const std::vector<std::pair<double, double>>& pts, double hx, double hy, double x, double y);

}  // namespace tension::atlas
