// The demo's feature-visualisation section: Fig. 5 for three units of the default model (an MTI, its +/-
// accentuations and inversions, max/min feature visualisations) and the Fig. 14 check that S+ inversions excite
// and S- inversions inhibit the unit, over ten units.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>

#include "tension/core/stopwatch.h"
#include "tension/attribution/attributor.h"
#include "tension/report/sections.h"
#include "tension/core/error.h"
#include "tension/data/preprocess.h"
#include "tension/analysis/feature_field.h"
#include "tension/render/image_grid.h"
#include "tension/render/line_plot.h"
#include "tension/viz/curve.h"
#include "tension/analysis/mti_search.h"
#include "tension/viz/panels.h"
#include "tension/viz/spectrum.h"

namespace tension::report {

void visualization_section(const data::Dataset& ds, model::Model& m, uint64_t seed, RunManifest& run,
                           render::HtmlPage& page) {
  // conv3 units (read pre-ReLU) attributed to the block before them, pool1.
  const std::string layer = "pool1";
  const size_t fig5_units = 3, fig14_units = 10, search_images = 2000;
  auto perm = torch::randperm(64, at::make_generator<at::CPUGeneratorImpl>(seed), torch::kLong);
  std::vector<feature::Feature> features;
  for (size_t i = 0; i < fig14_units; ++i) features.push_back(feature::parse_feature("conv3:" + std::to_string(perm[i].item<int64_t>())));

  attribution::AttributorOptions ao;
  ao.features = features;
  ao.layers = {layer};
  ao.footprint.seed = seed;
  attribution::Attributor search(m, ao);
  auto mtis = analysis::find_mtis(search, ds, search_images);
  for (size_t u = 0; u < mtis.size(); ++u) {
    if (!mtis[u].in_window) spdlog::warn("{}: no image with -0.5 sd < f_v < 0; using the largest ||S||_1", features[u].spec);
  }
  ao.keep_s = true;
  attribution::Attributor attributor(m, ao);
  const auto& in = m.input_spec();
  std::vector<torch::Tensor> xs;
  for (const auto& t : mtis) xs.push_back(data::preprocess(ds.load(t.index), in));
  auto attrs = viz::attributions_per_feature(attributor, torch::stack(xs));

  const int64_t canvas = viz::default_canvas(in);
  viz::PanelOptions po;
  po.canvas = canvas;
  po.seed = seed;
  po.spectrum = viz::estimate_spectrum(ds, viz::SpectrumOptions{canvas, in.channels, search_images});
  run["params"]["visualization"] = po;

  // Fig. 5 rows: MTI, S+/S- accentuations, S+/S- inversions, max/min feature visualisations. The inversions
  // of all ten units (Fig. 14) render in one batch; the first three also fill Fig. 5.
  std::vector<viz::Panel> panels;
  std::vector<std::string> names;
  auto add = [&](size_t u, viz::Target t, bool seeded) {
    viz::Panel p;
    p.feature = features[u];
    p.target = t;
    if (seeded) p.seed = data::to_canvas(ds.load(mtis[u].index), in.channels, canvas);
    if (viz::needs_attribution(t)) p.attribution = attrs[u];
    panels.push_back(p);
    names.push_back(fmt::format("{}-{}-{}", features[u].spec, seeded ? "seed" : "noise", viz::target_name(t)));
    return panels.size() - 1;
  };
  std::vector<std::vector<size_t>> fig5(fig5_units);
  std::vector<size_t> inv_pos(fig14_units), inv_neg(fig14_units);
  for (size_t u = 0; u < fig14_units; ++u) {
    inv_pos[u] = add(u, viz::Target::SPos, false);
    inv_neg[u] = add(u, viz::Target::SNeg, false);
  }
  for (size_t u = 0; u < fig5_units; ++u) {
    fig5[u] = {add(u, viz::Target::SPos, true), add(u, viz::Target::SNeg, true), inv_pos[u], inv_neg[u],
               add(u, viz::Target::Max, false), add(u, viz::Target::Min, false)};
  }
  const Stopwatch t0;
  auto results = viz::optimize_panels(m, panels, po);
  run.add_timing("visualisation", t0.seconds());

  std::vector<double> sd;
  for (const auto& p : panels) {
    auto it = std::find_if(features.begin(), features.end(), [&](const auto& f) { return f.spec == p.feature.spec; });
    sd.push_back(mtis[static_cast<size_t>(it - features.begin())].sd);
  }
  viz::write_curve_csv(run.path("viz-curve.csv"), names, panels, results, sd);
  run.add_output("viz-curve.csv", "per visualisation and step: loss, f_v and f_v / sd(f_v) (README: curve.csv)");

  // Fig. 5: the MTI cropped to the unit's effective receptive field (App. B; the paper's threshold 0.05).
  std::vector<torch::Tensor> cells;
  for (size_t u = 0; u < fig5_units; ++u) {
    auto field = analysis::feature_field(m, features[u]);
    auto mti = data::to_canvas(ds.load(mtis[u].index), in.channels, canvas);
    cells.push_back(render::opaque_rgba(analysis::field_crop(mti, field, in)));
    for (size_t i : fig5[u]) cells.push_back(viz::display_image(results[i]));
  }
  render::GridOptions go;
  go.columns = 7;
  go.cell = 4 * canvas;
  go.background = in.channels == 1 ? 0.5 : 1.0;  // grey garments would vanish on white
  go.column_labels = {"MTI (field)", "S+ accent.", "S- accent.", "S+ inversion", "S- inversion", "max", "min"};
  render::write_png(run.path("fig5.png"), render::image_grid(torch::stack(cells), go));
  run.add_output("fig5.png", "Fig. 5: per unit, MTI cropped to its effective receptive field | S+, S- "
                             "accentuation | S+, S- inversion | max, min");

  // Fig. 14: f_v / sd over the steps; median and range over the ten units.
  auto band = [&](const std::vector<size_t>& idx, const std::string& name, render::LinePanel& panel) {
    const size_t steps = results[idx.front()].fv.size();
    render::Series lo{name + " min", {}, {}}, med{name + " median", {}, {}}, hi{name + " max", {}, {}};
    for (size_t s = 0; s < steps; ++s) {
      std::vector<double> v;
      for (size_t u = 0; u < idx.size(); ++u) v.push_back(results[idx[u]].fv[s] / sd[idx[u]]);
      std::sort(v.begin(), v.end());
      for (auto* series : {&lo, &med, &hi}) series->x.push_back(static_cast<double>(s));
      lo.y.push_back(v.front());
      hi.y.push_back(v.back());
      med.y.push_back(v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2);
    }
    for (auto* series : {&lo, &med, &hi}) panel.series.push_back(std::move(*series));
  };
  render::LinePanel fig14{"inversions of ten conv3 units through pool1", "step", "f_v / sd(f_v)", {}};
  band(inv_pos, "S+", fig14);
  band(inv_neg, "S-", fig14);
  render::write_line_figure(run.path("fig14"), {fig14});
  run.add_output("fig14.png", "Fig. 14: f_v of S+ and S- inversions over the steps (median and range of ten units)");
  size_t raised = 0, lowered = 0;
  for (size_t u = 0; u < fig14_units; ++u) {
    raised += results[inv_pos[u]].fv.back() > results[inv_pos[u]].fv.front();
    lowered += results[inv_neg[u]].fv.back() < results[inv_neg[u]].fv.front();
  }
  run["results"]["fig14"] = {{"units", fig14_units}, {"s_pos_raised", raised}, {"s_neg_lowered", lowered}};

  page.section("Accentuation and inversion (paper §4, Fig. 5; App. F, Fig. 14)", "visualization");
  std::string units;
  for (size_t u = 0; u < fig5_units; ++u) {
    units += fmt::format("{}{} (MTI: test image {}, f_v = {:.3g} = {:.2f} sd)", u ? "; " : "", features[u].spec,
                         mtis[u].index, mtis[u].fv, mtis[u].fv / mtis[u].sd);
  }
  page.paragraph(fmt::format(
      "Units {}. Each MTI is the test image (of the first {}) with the largest ||S||_1 at {} under -0.5 sd < f_v < 0. "
      "Accentuations start from the MTI, inversions from noise; both maximise dot*cos (eq. 5, p = 1) toward S+ = "
      "ReLU(S) or S- = ReLU(-S) with MACO (phase only; the magnitude spectrum estimated from the test set), Adam lr "
      "0.02, 121 steps, 16 random crops and noise per step; max/min are plain feature visualisations (lr 0.05, 101 "
      "steps). Opacity: the integrated pixel gradient. The forward pass stops at the objective's layer.",
      units, search_images, layer));
  page.image("fig5.png", "Per unit: MTI (cropped to the unit's effective receptive field, threshold 0.05) | S+ accentuation | S- accentuation | S+ inversion | S- inversion | max | min");
  page.paragraph(fmt::format(
      "Do inversions excite and inhibit the unit? For ten random conv3 units, f_v of the inversion's image, in "
      "standard deviations of f_v over the test images: S+ inversions raised f_v for {} of {} units, S- inversions "
      "lowered it for {} of {}.", raised, fig14_units, lowered, fig14_units));
  page.image("fig14.png", "f_v / sd over the optimisation steps: median and range over ten units");
  spdlog::info("inversions: S+ raised f_v for {}/{} units, S- lowered it for {}/{}", raised, fig14_units, lowered,
               fig14_units);
}

}  // namespace tension::report
