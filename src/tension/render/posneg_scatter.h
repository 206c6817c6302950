#pragma once
// The (E+, E-) scatter of paper Fig 4a: every image, coloured by f_v on a diverging scale, diagonal lines of
// constant E = E+ - E- in the same colours, and the images chosen by each selection rule circled.
#include <string>
#include <vector>

namespace tension::render {

struct ScatterPoint {
  double e_pos = 0, e_neg = 0, fv = 0;
};

struct ScatterMarks {
  std::string label;            // e.g. the rule
  std::vector<size_t> points;   // indices into the points
};

// Writes STEM.dat, STEM.gp, STEM.png and STEM.svg (gnuplot). Throws tension::Error when gnuplot fails.
void write_posneg_scatter(const std::string& stem, const std::string& title, const std::vector<ScatterPoint>& points,
                          const std::vector<ScatterMarks>& marks);

}  // namespace tension::render
