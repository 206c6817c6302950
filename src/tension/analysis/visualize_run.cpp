#include "tension/analysis/visualize_run.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "tension/analysis/feature_field.h"
#include "tension/attribution/attributor.h"
#include "tension/attribution/terms.h"
#include "tension/core/error.h"
#include "tension/core/npy.h"
#include "tension/data/dataset.h"
#include "tension/data/preprocess.h"
#include "tension/model/model.h"
#include "tension/render/image_grid.h"
#include "tension/render/line_plot.h"
#include "tension/viz/curve.h"
#include "tension/viz/feature_scale.h"
#include "tension/viz/panels.h"
#include "tension/viz/spectrum.h"

namespace tension::analysis {

namespace {

// A file name for a target: s+ and s- are not safe in every shell.
std::string slug(viz::Target t) {
  switch (t) {
    case viz::Target::SPos: return "spos";
    case viz::Target::SNeg: return "sneg";
    default: return viz::target_name(t);
  }
}

}  // namespace

void visualize_run(const VisualizeOptions& a, RunManifest& run) {
  auto m = model::load_model(a.model);
  const auto& in = m->input_spec();
  auto f = feature::parse_feature(a.feature);
  std::vector<viz::Target> targets;
  bool any_attribution = false;
  for (const auto& t : a.targets) {
    targets.push_back(viz::parse_target(t));
    any_attribution |= viz::needs_attribution(targets.back());
  }
  const int64_t canvas = a.canvas > 0 ? a.canvas : viz::default_canvas(in);

  run["params"] = a;
  run["results"]["canvas"] = canvas;
  run["model"] = {{"spec", a.model.spec}, {"weights", m->weights_id()}};
  run.write("running");

  // Starts: noise, or seed images on the canvas.
  std::vector<std::pair<std::string, torch::Tensor>> starts;
  std::vector<std::string> seed_specs;
  for (const auto& s : a.from) {
    if (s != "noise") seed_specs.push_back(s);
  }
  size_t k = 0;
  for (const auto& s : a.from) {
    if (s == "noise") {
      starts.emplace_back("noise", torch::Tensor());
    } else {
      auto name = seed_specs.size() == 1 ? std::string("seed") : "seed" + std::to_string(++k);
      starts.emplace_back(name, data::to_canvas(data::load_image(s), in.channels, canvas));
    }
  }
  std::optional<viz::Attribution> attr;
  if (any_attribution) {
    if (a.layer.empty()) throw Error("targets s+, s- and abs need --layer (the attribution layer)");
    std::string image = a.image;
    if (image.empty() && seed_specs.size() == 1) image = seed_specs.front();
    if (image.empty()) throw Error("targets s+, s- and abs need --image (or exactly one --from IMAGE)");
    attribution::AttributorOptions ao;
    ao.features = {f};
    ao.layers = {a.layer};
    ao.keep_s = true;
    ao.footprint.seed = a.model.seed;
    attribution::Attributor attributor(*m, ao);
    auto x = data::preprocess(data::load_image(image), in).unsqueeze(0);
    attr = viz::attributions_per_feature(attributor, x).front();
    // Eq. 2's totals of the image's S (attribution_totals takes a batch).
    auto totals = attribution::attribution_totals(attr->s.unsqueeze(0));
    const double e_pos = totals.e_pos[0].item<double>(), e_neg = totals.e_neg[0].item<double>();
    run["attribution"] = {{"image", image},
                          {"fv", attr->fv},
                          {"footprint", {attr->footprint.top, attr->footprint.left, attr->footprint.bottom,
                                         attr->footprint.right}},
                          {"e_pos", e_pos},
                          {"e_neg", e_neg}};
    spdlog::info("attribution of {} on {} at {}: f_v = {:.4g}, E+ = {:.4g}, E- = {:.4g}", a.feature, image, a.layer,
                 attr->fv, e_pos, e_neg);
  }

  std::unique_ptr<data::Dataset> ds;
  if (!a.data.empty()) {
    ds = data::open_dataset(a.data);
    run["dataset"] = {{"spec", a.data}, {"sha256", data::listing_hash(*ds)}, {"size", ds->size()}};
  }
  viz::PanelOptions po;
  po.param = a.param;
  po.canvas = canvas;
  po.cos_power = a.cos_power;
  po.seed = a.model.seed;
  bool noise_start = std::any_of(starts.begin(), starts.end(), [](const auto& s) { return !s.second.defined(); });
  if (a.param == "maco" && noise_start) {
    if (!a.spectrum.empty()) {
      po.spectrum = read_npy(a.spectrum);
    } else if (ds) {
      po.spectrum = viz::estimate_spectrum(*ds, viz::SpectrumOptions{canvas, in.channels, a.data_images});
    } else {
      spdlog::warn("no --spectrum or --data: MACO from noise uses a 1/f magnitude");
      po.spectrum = viz::one_over_f(canvas).unsqueeze(0).expand({in.channels, -1, -1}).contiguous();
    }
  }
  for (auto* ro : {&po.attribution_optimize, &po.feature_optimize}) {
    if (a.steps) ro->steps = *a.steps;
    if (a.lr) ro->lr = *a.lr;
    if (a.transforms) ro->transforms.count = *a.transforms;
  }
  run["params"]["panels"] = po;  // the options as resolved: the recipes with --steps, --lr, --transforms applied

  std::vector<viz::Panel> panels;
  std::vector<std::string> names;
  for (const auto& [start, seed] : starts) {
    for (auto t : targets) {
      viz::Panel p;
      p.feature = f;
      p.target = t;
      p.seed = seed;
      if (viz::needs_attribution(t)) p.attribution = attr;
      panels.push_back(std::move(p));
      names.push_back(start + "-" + slug(t));
    }
  }
  auto results = viz::optimize_panels(*m, panels, po);

  double sd = std::numeric_limits<double>::quiet_NaN();
  if (ds) sd = viz::feature_sd(*m, {f}, *ds, a.data_images).front();
  viz::write_curve_csv(run.path("curve.csv"), names, panels, results, std::vector<double>(panels.size(), sd));
  run.add_output("curve.csv", "per panel and step: loss, f_v and f_v / sd(f_v over --data)");

  std::vector<torch::Tensor> row, images, alphas;
  render::GridOptions go;
  if (!seed_specs.empty()) {
    model::EffectiveFieldOptions fo;
    fo.threshold = a.rf_threshold;
    fo.seed = a.model.seed;
    auto field = analysis::feature_field(*m, f, fo);
    run["results"]["crop"] = {{"threshold", a.rf_threshold}, {"box", field}};
    for (const auto& [start, seed] : starts) {
      if (!seed.defined()) continue;
      row.push_back(render::opaque_rgba(analysis::field_crop(seed, field, in)));
      go.column_labels.push_back(start + " (field)");
    }
  }
  go.column_labels.insert(go.column_labels.end(), names.begin(), names.end());
  render::LinePanel lp{fmt::format("{} during optimisation", a.feature), "step",
                       std::isfinite(sd) ? "f_v / sd(f_v)" : "f_v", {}};
  nlohmann::json panel_json = nlohmann::json::array();
  for (size_t i = 0; i < panels.size(); ++i) {
    const auto& r = results[i];
    auto rgba = viz::display_image(r);
    render::write_png(run.path(names[i] + "-rgba.png"), rgba);
    render::write_png(run.path(names[i] + "-image.png"), r.image);
    render::write_png(run.path(names[i] + "-opacity.png"), r.alpha);
    row.push_back(rgba);
    images.push_back(r.image);
    alphas.push_back(r.alpha.squeeze(0));
    render::Series s{names[i], {}, {}};
    for (size_t k = 0; k < r.fv.size(); ++k) {
      s.x.push_back(static_cast<double>(k));
      s.y.push_back(std::isfinite(sd) ? r.fv[k] / sd : r.fv[k]);
    }
    lp.series.push_back(std::move(s));
    panel_json.push_back({{"name", names[i]}, {"kind", viz::panel_kind(panels[i])},
                          {"target", viz::target_name(panels[i].target)}, {"fv_first", r.fv.front()},
                          {"fv_last", r.fv.back()}, {"loss_first", r.loss.front()}, {"loss_last", r.loss.back()}});
    run.add_output(names[i] + "-rgba.png", "the image with its opacity as alpha (display contrast)");
  }
  write_npy(run.path("images.npy"), torch::stack(images));
  write_npy(run.path("opacity.npy"), torch::stack(alphas));
  run.add_output("images.npy", "float32 [P, C, S, S]: the panels' images in [0, 1], in curve.csv's panel order");
  run.add_output("opacity.npy", "float32 [P, S, S]: their opacity masks");
  go.columns = static_cast<int64_t>(row.size());
  go.cell = std::max<int64_t>(canvas, 128);
  go.background = in.channels == 1 ? 0.5 : 1.0;  // white grey-model images would vanish on white
  render::write_png(run.path("figure.png"), render::image_grid(torch::stack(row), go));
  run.add_output("figure.png", "Fig. 5 row: seed image(s) cropped to the feature's effective receptive field, then the panels in curve.csv's order, labelled, over "
                               "white (grey models: mid-grey)");
  render::write_line_figure(run.path("curve"), {lp});
  run.add_output("curve.png", "f_v of each panel's image over the steps (Fig. 14)");
  run["results"]["panels"] = panel_json;
  if (std::isfinite(sd)) run["results"]["fv_sd"] = sd;
  run.write();
  spdlog::info("{} panel(s) written to {}", panels.size(), run.dir());
}

}  // namespace tension::analysis
