#include "tension/toy/toy_figures.h"

#include <algorithm>
#include <cmath>
#include <fstream>

#include "tension/core/error.h"
#include "tension/render/line_plot.h"
#include "tension/render/posneg.h"

namespace tension::toy {

namespace {

// One "x y r g b" line of a gnuplot rgbimage block.
void rgb_line(std::ofstream& dat, double x, double y, const std::array<double, 3>& c) {
  dat << x << " " << y;
  for (double v : c) dat << " " << std::lround(255 * std::clamp(v, 0.0, 1.0));
  dat << "\n";
}

}  // namespace

std::array<double, 3> posneg_colour(double pos, double neg) {
  pos = std::clamp(pos, 0.0, 1.0);
  neg = std::clamp(neg, 0.0, 1.0);
  // The paper's ± scale (render/posneg), over white.
  const auto c = render::jet(torch::tensor((pos - neg + 1) / 2, torch::kDouble));
  const double alpha = std::max(pos, neg);
  std::array<double, 3> out{};
  for (int k = 0; k < 3; ++k) out[k] = 1 - alpha + alpha * c[k].item<double>();
  return out;
}

void write_attribution_figure(const std::string& stem, const std::string& title,
                              const std::vector<MatrixPanel>& panels) {
  if (panels.empty()) throw Error("no attribution matrices to draw");
  const std::string name = render::stem_name(stem);
  std::ofstream dat(stem + ".dat");
  for (const auto& p : panels) {
    auto [pos, neg] = normalise_columns(p.matrix);
    pos = pos.to(torch::kFloat64).contiguous();
    neg = neg.to(torch::kFloat64).contiguous();
    dat << "# " << p.title << ": x = output j, y = probe i, colour of (E+, E-) normalised per column\n";
    for (int64_t i = 0; i < pos.size(0); ++i) {
      for (int64_t j = 0; j < pos.size(1); ++j) {
        rgb_line(dat, j, i, posneg_colour(pos[i][j].item<double>(), neg[i][j].item<double>()));
      }
    }
    dat << "\n\n";
  }
  const int steps = 20;  // the legend: E+ along x, E- along y
  dat << "# legend\n";
  for (int b = 0; b <= steps; ++b) {
    for (int a = 0; a <= steps; ++a) {
      rgb_line(dat, a / double(steps), b / double(steps), posneg_colour(a / double(steps), b / double(steps)));
    }
  }
  dat.close();

  std::ofstream gp(stem + ".gp");
  const auto& probes = panels.front().matrix.probes;
  const int64_t rows = static_cast<int64_t>(probes.names.size());
  const int64_t cols = panels.front().matrix.e_pos.size(1);
  std::string ytics, xtics;
  for (int64_t i = 0; i < rows; ++i) ytics += (i ? ", " : "") + render::gnuplot_quote(probes.names[i]) + " " + std::to_string(i);
  for (int64_t j = 0; j < cols; ++j) xtics += (j ? ", " : "") + render::gnuplot_quote("f" + std::to_string(j + 1)) + " " + std::to_string(j);
  const int n = static_cast<int>(panels.size()) + 1;
  render::for_each_terminal(gp, name, std::max(250 * n, 640), 420, [&] {
    gp << "set multiplot layout 1," << n << " title " << render::gnuplot_quote(title) << "\n"
       << "unset key\nset size ratio -1\nunset colorbox\n";
    for (size_t k = 0; k < panels.size(); ++k) {
      gp << "set title " << render::gnuplot_quote(panels[k].title) << "\n"
         << "set xrange [-0.5:" << cols - 0.5 << "]\nset yrange [" << rows - 0.5 << ":-0.5]\n"
         << "set xtics (" << xtics << ")\nset ytics (" << ytics << ")\n"
         << "set xlabel 'output'\nset ylabel " << (k == 0 ? "'input'" : "''") << "\n"
         << "plot " << render::gnuplot_quote(name + ".dat") << " index " << k << " using 1:2:3:4:5 with rgbimage\n";
    }
    gp << "set title 'colour scale'\nset size ratio 1\nset xrange [-0.025:1.025]\nset yrange [-0.025:1.025]\n"
       << "set xtics 0.5\nset ytics 0.5\nset xlabel 'E+ / column max'\nset ylabel 'E- / column max'\n"
       << "plot " << render::gnuplot_quote(name + ".dat") << " index " << panels.size()
       << " using 1:2:3:4:5 with rgbimage\n"
       << "unset multiplot\n";
  });
  gp.close();
  render::run_gnuplot(render::stem_dir(stem), name + ".gp");
}

void write_domain_loss_figure(const std::string& stem, const std::string& title,
                              const std::vector<LossSeries>& series) {
  const std::string name = render::stem_name(stem);
  const double width = 0.8 / std::max<size_t>(1, series.size());
  auto offset = [&](size_t s) { return (static_cast<double>(s) - (series.size() - 1) / 2.0) * width; };
  std::ofstream dat(stem + ".dat");
  int64_t max_active = 0;
  for (size_t s = 0; s < series.size(); ++s) {
    dat << "# " << series[s].name << ": x q1 whisker_low whisker_high q3 median count\n";
    for (const auto& b : series[s].boxes) {
      dat << b.active + offset(s) << " " << b.q1 << " " << b.whisker_low << " " << b.whisker_high << " " << b.q3
          << " " << b.median << " " << b.count << "\n";
      max_active = std::max(max_active, b.active);
    }
    dat << "\n\n# " << series[s].name << ": outliers\n";
    bool any = false;
    for (const auto& b : series[s].boxes) {
      for (double y : b.outliers) {
        dat << b.active + offset(s) << " " << y << "\n";
        any = true;
      }
    }
    if (!any) dat << "NaN NaN\n";  // gnuplot refuses an empty block
    dat << "\n\n";
  }
  dat.close();
  std::ofstream gp(stem + ".gp");
  const char* colours[] = {"#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"};
  render::for_each_terminal(gp, name, 760, 440, [&] {
    gp << "set title " << render::gnuplot_quote(title) << "\nset grid ytics\nset key top left\n"
       << "set xlabel 'active features'\nset ylabel 'loss per input (eq. 9)'\n"
       << "set xrange [-0.6:" << max_active + 0.6 << "]\nset xtics 1\nset yrange [0:*]\n"
       << "set boxwidth " << 0.85 * width << " absolute\nplot ";
    for (size_t s = 0; s < series.size(); ++s) {
      const std::string c = render::gnuplot_quote(colours[s % 6]);
      const std::string file = render::gnuplot_quote(name + ".dat");
      gp << (s ? ", \\\n     " : "") << file << " index " << 2 * s
         << " using 1:2:3:4:5 with candlesticks whiskerbars lc rgb " << c << " lw 1.5 title "
         << render::gnuplot_quote(series[s].name) << ", \\\n     " << file << " index " << 2 * s
         << " using 1:6:6:6:6 with candlesticks lc rgb " << c << " lw 3 notitle, \\\n     " << file
         << " index " << 2 * s + 1 << " using 1:2 with points pt 7 ps 0.3 lc rgb " << c << " notitle";
    }
    gp << "\n";
  });
  gp.close();
  render::run_gnuplot(render::stem_dir(stem), name + ".gp");
}

}  // namespace tension::toy
