#pragma once
// Line figures drawn by gnuplot (a subprocess): the .dat and .gp stay beside the PNG and SVG so a user can
// edit and re-render them.
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace tension::render {

struct Series {
  Series(std::string name = {}, std::vector<double> x = {}, std::vector<double> y = {}, std::string colour = {},
         int dash = 1, bool points = true)
      : name(std::move(name)), x(std::move(x)), y(std::move(y)), colour(std::move(colour)), dash(dash),
        points(points) {}
  std::string name;
  std::vector<double> x, y;
  std::string colour;  // "#rrggbb"; empty: gnuplot's next colour
  int dash;            // gnuplot dashtype: 1 solid, 2 dashed, 3 dotted
  bool points;         // false: a plain line (bounds, references)
  // An interval around each point (confidence intervals): both empty for none, else one [lo, hi] per x; a series
  // with intervals is drawn as points joined by its line, each with a vertical bar.
  std::vector<double> lo, hi;
};

struct LinePanel {
  std::string title;
  std::string xlabel;
  std::string ylabel;
  std::vector<Series> series;
  bool fixed_y = false;        // use [ymin, ymax] instead of autoscale
  double ymin = 0, ymax = 1;
  bool fixed_x = false;        // use [xmin, xmax] instead of autoscale
  double xmin = 0, xmax = 1;
  std::string key = "bottom left";  // gnuplot key position, placed where the curves are not
  // Labelled x tics (e.g. layer names at 0, 1, 2); empty: gnuplot's numeric tics. Brace-initialised so that callers
  // that aggregate-initialise only the first members get no -Wmissing-field-initializers.
  std::vector<std::pair<double, std::string>> xtics{};
};

// Writes STEM.dat, STEM.gp, STEM.png and STEM.svg with the panels side by side. Throws tension::Error when
// gnuplot fails (its stderr in the message).
void write_line_figure(const std::string& stem, const std::vector<LinePanel>& panels);

// A median (or any central) line with a shaded range around it.
struct Band {
  std::string name;
  std::string colour;                   // "#rrggbb"
  std::vector<double> x, lo, mid, hi;
};

struct BandPanel {
  std::string title;
  std::string xlabel;
  std::string ylabel;
  std::vector<Band> bands;
  std::string key = "top left";
};

// Writes STEM.dat, STEM.gp, STEM.png and STEM.svg with the panels side by side: per band, [lo, hi] shaded in its
// colour and `mid` drawn over it as a line. Throws tension::Error when gnuplot fails.
void write_band_figure(const std::string& stem, const std::vector<BandPanel>& panels);

// Runs gnuplot on DIR/SCRIPT from inside DIR (so the script names its data and outputs relative to it);
// throws tension::Error with gnuplot's output when it exits non-zero.
void run_gnuplot(const std::string& dir, const std::string& script);

// A figure's STEM ("DIR/NAME") split into its folder ("." when it has none) and its file name.
std::string stem_dir(const std::string& stem);
std::string stem_name(const std::string& stem);

// Quotes a label for gnuplot (single quotes, no enhanced-text interpretation).
std::string gnuplot_quote(const std::string& s);

// Writes a figure's plotting commands (`body()` appends them to gp) twice: to NAME.png (pngcairo) and to NAME.svg,
// width x height pixels.
template <class Body>
void for_each_terminal(std::ostream& gp, const std::string& name, int width, int height, Body body) {
  for (const char* term : {"pngcairo", "svg"}) {
    const std::string ext = term == std::string("svg") ? ".svg" : ".png";
    gp << "set terminal " << term << " size " << width << "," << height << " noenhanced font 'DejaVu Sans,10'\n"
       << "set output " << gnuplot_quote(name + ext) << "\n";
    body();
    gp << "set output\n";
  }
}

}  // namespace tension::render
