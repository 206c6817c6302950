#include "tension/atlas/atlas_plots.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>

#include "tension/core/error.h"
#include "tension/core/moments.h"
#include "tension/core/percentile.h"
#include "tension/render/diverging.h"
#include "tension/render/line_plot.h"

namespace tension::atlas {

namespace {

// gnuplot's palette for the atlas's diverging scale (render/diverging.h) over colour values in [-1, 1]: gnuplot maps
// cb linearly, and the two-slope norm is linear on each side of 0, so each point's colour value is its norm
// stretched to [-1, 1] and the tics are relabelled in f_v.
std::string palette() {
  const auto& c = render::kDivergingStops;
  return fmt::format("set palette defined (0 '{}', 0.25 '{}', 0.5 '{}', 0.75 '{}', 1 '{}')\n", c[0], c[1], c[2], c[3],
                     c[4]) +
         "set cbrange [-1:1]\nset cblabel 'f_v'\n";
}

double two_slope_cb(double v, double lo, double hi) { return 2 * render::two_slope(v, lo, hi) - 1; }

std::string cb_tics(double lo, double hi) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "set cbtics ('%.3g' -1, '%.3g' -0.5, '0' 0, '%.3g' 0.5, '%.3g' 1)\n", lo, lo / 2,
                hi / 2, hi);
  return buf;
}

double scott(const std::vector<double>& v) {
  return std::max(moments(v).sd, 1e-12) * std::pow(static_cast<double>(v.size()), -1.0 / 6.0);
}

}  // namespace

double kernel_density(const std::vector<std::pair<double, double>>& pts, double hx, double hy, double x, double y) {
  double d = 0;
  for (const auto& [px, py] : pts) {
    const double u = (x - px) / hx, v = (y - py) / hy;
    d += std::exp(-0.5 * (u * u + v * v));
  }
  return d;
}

void write_selection_figure(const std::string& stem, const std::string& title, const EnergySource& all,
                            const std::vector<EnergyPoint>& selected, double fv_lo, double fv_hi) {
  const std::string name = render::stem_name(stem);
  double e_max = 1e-12;
  size_t n = 0;
  {
    std::ofstream dat(stem + ".dat");
    dat << "# E+ E- f_v colour(two-slope, -1..1): every image\n";
    all([&](const EnergyPoint& p) {
      dat << p.e_pos << " " << p.e_neg << " " << p.fv << " " << two_slope_cb(p.fv, fv_lo, fv_hi) << "\n";
      e_max = std::max({e_max, p.e_pos, p.e_neg});
      ++n;
    });
  }
  if (n == 0) throw Error("no images to plot in " + stem);
  const double top = e_max * 1.05;
  bool contours = selected.size() >= 3;
  std::vector<double> levels;
  if (contours) {
    std::vector<std::pair<double, double>> pts;
    std::vector<double> xs, ys;
    for (const auto& p : selected) {
      pts.emplace_back(p.e_pos, p.e_neg);
      xs.push_back(p.e_pos);
      ys.push_back(p.e_neg);
    }
    const double hx = scott(xs), hy = scott(ys);
    // The density at the selected images themselves: the level below which 10 % of them lie encloses 90 %.
    std::vector<float> at;
    for (const auto& [x, y] : pts) at.push_back(static_cast<float>(kernel_density(pts, hx, hy, x, y)));
    for (double q : {10.0, 50.0, 90.0}) levels.push_back(percentile(at, q));
    const int g = 80;
    std::ofstream grid(stem + "-density.dat");
    grid << "# E+ E- kernel density of the selected images (gnuplot grid: blank line between rows)\n";
    for (int i = 0; i <= g; ++i) {
      for (int j = 0; j <= g; ++j) {
        const double x = top * i / g, y = top * j / g;
        grid << x << " " << y << " " << kernel_density(pts, hx, hy, x, y) << "\n";
      }
      grid << "\n";
    }
  }
  std::ofstream gp(stem + ".gp");
  gp << "set datafile separator whitespace\n" << palette() << cb_tics(fv_lo, fv_hi);
  if (contours) {
    gp << "# Contour lines of the selected images' density, traced to a table first\n"
       << "set contour base\nunset surface\nset view map\nset cntrparam levels discrete " << levels[0] << ", "
       << levels[1] << ", " << levels[2] << "\nset table " << render::gnuplot_quote(name + "-contours.dat")
       << "\nsplot " << render::gnuplot_quote(name + "-density.dat") << " using 1:2:3 with lines\nunset table\n"
       << "unset contour\nset surface\n";
  }
  gp << "set xrange [0:" << top << "]\nset yrange [0:" << top << "]\nset size ratio -1\n"
     << "set xlabel 'E+ (excitation)'\nset ylabel 'E- (inhibition)'\nset title " << render::gnuplot_quote(title)
     << "\nset key top left inside opaque box\nset grid\n";
  std::string plot = "plot " + render::gnuplot_quote(name + ".dat") + " using 1:2:4 with points pt 7 ps 0.4 lc "
                     "palette title 'images'";
  if (contours) {
    plot += ", " + render::gnuplot_quote(name + "-contours.dat") +
            " using 1:2 with lines lw 2 lc rgb '#000000' title 'selected: density (10/50/90 %)'";
  }
  render::for_each_terminal(gp, name, 720, 600, [&] { gp << plot << "\n"; });
  gp.close();
  render::run_gnuplot(render::stem_dir(stem), name + ".gp");
}

void write_layout_figure(const std::string& stem, const std::string& title, const std::vector<float>& xy,
                         const std::vector<double>& fv, double fv_lo, double fv_hi, int grid) {
  if (xy.size() != 2 * fv.size() || fv.empty()) throw Error("the layout figure needs one f_v per point");
  const std::string name = render::stem_name(stem);
  std::vector<size_t> order(fv.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return std::abs(fv[a]) < std::abs(fv[b]); });
  {
    std::ofstream dat(stem + ".dat");
    dat << "# x y f_v colour(two-slope, -1..1), in ascending |f_v|\n";
    for (size_t i : order) {
      dat << xy[2 * i] << " " << xy[2 * i + 1] << " " << fv[i] << " " << two_slope_cb(fv[i], fv_lo, fv_hi) << "\n";
    }
  }
  std::ofstream gp(stem + ".gp");
  gp << "set datafile separator whitespace\n" << palette() << cb_tics(fv_lo, fv_hi)
     << "set xrange [0:1]\nset yrange [0:1]\nset size ratio -1\nunset key\nset title " << render::gnuplot_quote(title)
     << "\n# Minor tics on the atlas's cell boundaries\nset xtics 0,0.5,1\nset ytics 0,0.5,1\nset mxtics "
     << std::max(1, grid / 2) << "\nset mytics " << std::max(1, grid / 2)
     << "\nset grid xtics ytics mxtics mytics lc rgb '#dddddd' lw 0.5\n";
  render::for_each_terminal(gp, name, 700, 640, [&] {
    gp << "plot " << render::gnuplot_quote(name + ".dat") << " using 1:2:4 with points pt 7 ps 0.5 lc palette\n";
  });
  gp.close();
  render::run_gnuplot(render::stem_dir(stem), name + ".gp");
}

}  // namespace tension::atlas
