#include "tension/render/posneg_scatter.h"

#include <algorithm>
#include <cmath>
#include <fstream>

#include <fmt/format.h>

#include "tension/core/error.h"
#include "tension/render/line_plot.h"

namespace tension::render {

void write_posneg_scatter(const std::string& stem, const std::string& title, const std::vector<ScatterPoint>& points,
                          const std::vector<ScatterMarks>& marks) {
  if (points.empty()) throw Error("no points to plot in " + stem);
  std::ofstream dat(stem + ".dat");
  dat << "# E+ E- f_v (block 0: every image; then one block per selection)\n";
  double fv_max = 1e-12, e_max = 1e-12;
  for (const auto& p : points) {
    dat << p.e_pos << " " << p.e_neg << " " << p.fv << "\n";
    fv_max = std::max(fv_max, std::abs(p.fv));
    e_max = std::max({e_max, p.e_pos, p.e_neg});
  }
  for (const auto& m : marks) {
    dat << "\n\n# " << m.label << "\n";
    for (size_t i : m.points) dat << points.at(i).e_pos << " " << points.at(i).e_neg << " " << points[i].fv << "\n";
    if (m.points.empty()) dat << "NaN NaN NaN\n";  // an empty block would shift the indices
  }
  dat.close();

  const std::string name = stem_name(stem);
  std::ofstream gp(stem + ".gp");
  gp << "set datafile separator whitespace\n"
     << "# RdBu reversed (blue: negative f_v, red: positive, 0 in the middle), grey there so points near 0 show\n"
     << "set palette defined (0 '#053061', 0.25 '#4393c3', 0.5 '#d9d9d9', 0.75 '#d6604d', 1 '#67001f')\n"
     << "set cbrange [" << -fv_max << ":" << fv_max << "]\nset cblabel 'f_v'\n"
     << "set xrange [0:" << e_max * 1.05 << "]\nset yrange [0:" << e_max * 1.05 << "]\nset size ratio -1\n"
     << "set xlabel 'E+ (excitation)'\nset ylabel 'E- (inhibition)'\nset title " << gnuplot_quote(title) << "\n"
     << "set key outside right top\nset grid\n";
  // Lines of constant E = E+ - E-, coloured by E on the same scale as f_v (E tracks f_v where attribution is
  // complete).
  const int lines = 9;
  std::string plot = "plot ";
  for (int i = 0; i < lines; ++i) {
    double c = -fv_max + 2 * fv_max * i / (lines - 1);
    plot += fmt::format("x - ({0:g}) with lines lw 1 dt 2 lc palette cb {0:g} notitle, ", c);
  }
  plot += gnuplot_quote(name + ".dat") + " index 0 using 1:2:3 with points pt 7 ps 0.5 lc palette title 'images'";
  const char* colours[] = {"#000000", "#7f7f7f", "#e377c2", "#17becf", "#bcbd22", "#8c564b"};
  for (size_t m = 0; m < marks.size(); ++m) {
    plot += ", " + gnuplot_quote(name + ".dat") + " index " + std::to_string(m + 1) +
            " using 1:2 with points pt 6 ps 1.6 lw 1.5 lc rgb '" + colours[m % 6] + "' title " +
            gnuplot_quote(marks[m].label);
  }
  for_each_terminal(gp, name, 720, 600, [&] { gp << plot << "\n"; });
  gp.close();
  run_gnuplot(stem_dir(stem), name + ".gp");
}

}  // namespace tension::render
