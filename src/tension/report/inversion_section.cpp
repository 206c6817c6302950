// The demo's App. F section: the inversion check (Fig. 14) on the default model, every conv and linear layer
// through the block before it, on a shorter protocol than the paper's.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "tension/core/stopwatch.h"
#include "tension/report/sections.h"
#include "tension/analysis/inversion_check.h"

namespace tension::report {

void inversion_section(const data::Dataset& ds, model::Model& m, uint64_t seed, RunManifest& run,
                       render::HtmlPage& page) {
  // Fewer units, MTIs, steps and draws than the paper (20, 10, 121, 16), so that the section takes under a minute
  // on two cores; `tension inversion-check` runs the full protocol.
  const int64_t units = 4, mtis = 2, steps = 50, draws = 4;
  const size_t search_images = 500;
  analysis::InversionCheckOptions opt;
  opt.layers = {"conv1", "conv2", "conv3", "fc1", "fc2"};
  opt.through = {"conv1:in", "relu1", "pool1", "pool2", "relu4"};
  opt.units = units;
  opt.mtis = mtis;
  opt.search_images = search_images;
  opt.seed = seed;
  opt.optimize.steps = steps;
  opt.optimize.transforms.count = draws;
  run["params"]["inversion_check"] = opt;
  const std::string dir = run.path("inversion-check");
  std::filesystem::remove_all(dir);  // a fresh check: the demo's model or options may have changed since
  const Stopwatch t0;
  auto res = analysis::inversion_check(m, ds, opt, dir);
  run.add_timing("inversion check", t0.seconds());
  run.add_output("inversion-check/fig14.png", "App. F, Fig. 14: f_v / sd of S+ and S- inversions per layer");
  run.add_output("inversion-check/curves.csv", "every inversion's f_v per step (tension inversion-check's columns)");
  run.add_output("inversion-check/summary.csv", "per layer: fractions of pairs where S+ raised f_v, S- lowered it");

  page.section("Do attribution inversions excite and inhibit? (paper App. F, Fig. 14)", "inversion");
  page.paragraph(fmt::format(
      "For each layer, {} random units (read pre-ReLU at the centre); for each unit its {} MTIs among the first {} "
      "test images (largest ||S||_1 through the layer before, with -0.5 sd < f_v < 0); for each (unit, MTI) an "
      "inversion from noise toward S+ = ReLU(S) and one toward S- = ReLU(-S) of the MTI's attribution (dot*cos, "
      "MACO, Adam lr 0.02, {} steps, {} random crops and noise per step; the paper: 20 units, 10 MTIs, 121 steps, "
      "16 draws). Both inversions of a pair start from the same noise. f_v of each step's image is shown in "
      "standard deviations of the unit over the same test images.",
      units, mtis, search_images, steps, draws));
  page.image("inversion-check/fig14.png", "Per layer: median (line) and range (shaded) over the (unit, MTI) pairs of "
                                          "f_v / sd during optimisation; red S+, blue S-");
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : res.layers) {
    rows.push_back({s.layer, s.through, std::to_string(s.pairs), fmt::format("{:.0f}%", 100 * s.s_pos_raised),
                    fmt::format("{:.0f}%", 100 * s.s_neg_lowered), fmt::format("{:.0f}%", 100 * s.both),
                    fmt::format("{:+.2f}", s.s_pos_median_end), fmt::format("{:+.2f}", s.s_neg_median_end)});
    run["results"]["inversion_check"][s.layer] = {{"through", s.through},
                                                  {"pairs", s.pairs},
                                                  {"s_pos_raised", s.s_pos_raised},
                                                  {"s_neg_lowered", s.s_neg_lowered},
                                                  {"both", s.both}};
    spdlog::info("inversion check {} through {}: S+ raised f_v in {:.0f}%, S- lowered it in {:.0f}% of {} pairs",
                 s.layer, s.through, 100 * s.s_pos_raised, 100 * s.s_neg_lowered, s.pairs);
  }
  page.table({"layer", "through", "pairs", "S+ ends above its start", "S- ends below its start", "both",
              "S+ median end (sd)", "S- median end (sd)"},
             rows);
}

}  // namespace tension::report
