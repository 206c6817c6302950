#include "tension/render/line_plot.h"

#include <cstdio>
#include <fstream>

#include "tension/core/error.h"

namespace tension::render {

std::string gnuplot_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

namespace {
std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}
}  // namespace

std::string stem_dir(const std::string& stem) {
  return stem.find('/') == std::string::npos ? "." : stem.substr(0, stem.find_last_of('/'));
}

std::string stem_name(const std::string& stem) { return stem.substr(stem.find_last_of('/') + 1); }

void run_gnuplot(const std::string& dir, const std::string& script) {
  FILE* p = popen(("cd " + shell_quote(dir) + " && gnuplot " + shell_quote(script) + " 2>&1").c_str(), "r");
  if (!p) throw Error("cannot run gnuplot (install gnuplot-nox)");
  std::string out;
  char buf[512];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = pclose(p);
  if (status != 0) throw Error("gnuplot failed on " + script + ": " + out);
}

namespace {

// The settings every panel of a figure starts with.
void panel_header(std::ostream& gp, const std::string& title, const std::string& xlabel, const std::string& ylabel,
                  const std::string& key) {
  gp << "set title " << gnuplot_quote(title) << "\nset xlabel " << gnuplot_quote(xlabel) << "\nset ylabel "
     << gnuplot_quote(ylabel) << "\nset grid\nset key " << key << "\n";
}

}  // namespace

void write_line_figure(const std::string& stem, const std::vector<LinePanel>& panels) {
  std::ofstream dat(stem + ".dat");
  // One gnuplot data block per (panel, series), separated by two blank lines (addressed with `index`).
  int block = 0;
  for (const auto& p : panels) {
    for (const auto& s : p.series) {
      const bool bars = !s.lo.empty() || !s.hi.empty();
      if (bars && (s.lo.size() != s.x.size() || s.hi.size() != s.x.size())) {
        throw Error(stem + ": series " + s.name + " has " + std::to_string(s.x.size()) + " points but " +
                    std::to_string(s.lo.size()) + " lower and " + std::to_string(s.hi.size()) + " upper bounds");
      }
      dat << "# " << p.title << " / " << s.name << (bars ? ": x y lo hi" : "") << "\n";
      for (size_t i = 0; i < s.x.size(); ++i) {
        dat << s.x[i] << " " << s.y[i];
        if (bars) dat << " " << s.lo[i] << " " << s.hi[i];
        dat << "\n";
      }
      dat << "\n\n";
      ++block;
    }
  }
  dat.close();
  const int w = 460 * static_cast<int>(panels.size()), h = 400;
  std::ofstream gp(stem + ".gp");
  const std::string name = stem_name(stem);
  gp << "set datafile separator whitespace\n";
  for_each_terminal(gp, name, w, h, [&] {
    gp << "set multiplot layout 1," << panels.size() << "\n";
    block = 0;
    for (const auto& p : panels) {
      panel_header(gp, p.title, p.xlabel, p.ylabel, p.key);
      gp << (p.fixed_y ? "set yrange [" + std::to_string(p.ymin) + ":" + std::to_string(p.ymax) + "]\n"
                       : std::string("set autoscale y\n"));
      gp << (p.fixed_x ? "set xrange [" + std::to_string(p.xmin) + ":" + std::to_string(p.xmax) + "]\n"
                       : std::string("set autoscale x\n"));
      if (!p.xtics.empty()) {
        gp << "set xtics (";
        for (size_t i = 0; i < p.xtics.size(); ++i) {
          gp << (i ? ", " : "") << gnuplot_quote(p.xtics[i].second) << " " << p.xtics[i].first;
        }
        gp << ")\n";
      }
      gp << "plot ";
      for (size_t i = 0; i < p.series.size(); ++i) {
        const auto& s = p.series[i];
        gp << (i ? ", " : "") << gnuplot_quote(name + ".dat") << " index " << block++;
        if (!s.lo.empty()) {
          gp << " using 1:2:3:4 with yerrorlines lw 2 pt 7";
        } else {
          gp << " using 1:2 with " << (s.points ? "linespoints lw 2 pt 7" : "lines lw 1.5");
        }
        gp << " dt " << s.dash;
        if (!s.colour.empty()) gp << " lc rgb " << gnuplot_quote(s.colour);
        gp << " title " << gnuplot_quote(s.name);
      }
      gp << "\n";
      // The next panel starts from gnuplot's own tics again.
      if (!p.xtics.empty()) gp << "set xtics autofreq\n";
    }
    gp << "unset multiplot\n";
  });
  gp.close();
  run_gnuplot(stem_dir(stem), name + ".gp");
}

void write_band_figure(const std::string& stem, const std::vector<BandPanel>& panels) {
  std::ofstream dat(stem + ".dat");
  // One data block per (panel, band): x lo mid hi.
  for (const auto& p : panels) {
    for (const auto& b : p.bands) {
      dat << "# " << p.title << " / " << b.name << ": x lo mid hi\n";
      for (size_t i = 0; i < b.x.size(); ++i) {
        dat << b.x[i] << " " << b.lo[i] << " " << b.mid[i] << " " << b.hi[i] << "\n";
      }
      dat << "\n\n";
    }
  }
  dat.close();
  const int w = 400 * static_cast<int>(panels.size()), h = 380;
  std::ofstream gp(stem + ".gp");
  const std::string name = stem_name(stem), data = gnuplot_quote(name + ".dat");
  gp << "set datafile separator whitespace\nset style fill transparent solid 0.25 noborder\n";
  for_each_terminal(gp, name, w, h, [&] {
    gp << "set multiplot layout 1," << panels.size() << "\n";
    int block = 0;
    for (const auto& p : panels) {
      panel_header(gp, p.title, p.xlabel, p.ylabel, p.key);
      gp << "plot ";
      for (size_t i = 0; i < p.bands.size(); ++i, ++block) {
        const auto colour = gnuplot_quote(p.bands[i].colour);
        gp << (i ? ", " : "") << data << " index " << block << " using 1:2:4 with filledcurves lc rgb " << colour
           << " notitle, " << data << " index " << block << " using 1:3 with lines lw 2 lc rgb " << colour
           << " title " << gnuplot_quote(p.bands[i].name);
      }
      gp << "\n";
    }
    gp << "unset multiplot\n";
  });
  gp.close();
  run_gnuplot(stem_dir(stem), name + ".gp");
}

}  // namespace tension::render
