#include "tension/analysis/completeness_outputs.h"

#include <spdlog/spdlog.h>

#include <fstream>

#include "tension/data/dataset.h"
#include "tension/model/model.h"
#include "tension/render/line_plot.h"

namespace tension::analysis {

namespace {

nlohmann::json to_json(const CompletenessResult& r) {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : r.layers) {
    layers.push_back({{"layer", l.layer},     {"depth", l.depth},       {"cut", l.cut}, {"pearson", l.pearson},
                      {"spearman", l.spearman}, {"mean_abs_diff", l.mean_abs_diff},
                      {"pearson_per_feature", l.pearson_per_feature}});
  }
  return {{"model", r.model}, {"features", r.features}, {"images", r.images}, {"unreadable", r.unreadable},
          {"layers", layers}};
}

}  // namespace

void write_completeness_outputs(const std::vector<CompletenessResult>& results, RunManifest& run) {
  std::ofstream csv(run.path("completeness.csv"));
  csv << "model,layer,depth,cut,pearson,spearman,mean_abs_diff\n";
  nlohmann::json all = nlohmann::json::array();
  std::vector<render::LinePanel> panels(3);
  const std::string depth = "model depth (fraction of ReLUs before the layer)";
  panels[0] = {"Pearson corr(f_v, E_l) (Fig. 3)", depth, "Pearson correlation", {}, true, -0.1, 1.05};
  panels[1] = {"Spearman corr(f_v, E_l) (Fig. 13a)", depth, "Spearman correlation", {}, true, -0.1, 1.05};
  panels[2] = {"mean |f_v - E_l| (Fig. 13b)", depth, "mean absolute difference", {}};
  panels[2].key = "top right";
  for (const auto& r : results) {
    // Layers that are not cuts (--all-relus) are drawn as their own series: only part of f_v crosses them.
    std::vector<render::Series> ser[2];
    for (bool cut : {true, false}) {
      auto name = cut ? r.model : r.model + " (not cuts)";
      ser[cut] = {{name, {}, {}}, {name, {}, {}}, {name, {}, {}}};
    }
    for (const auto& l : r.layers) {
      csv << r.model << "," << l.layer << "," << l.depth << "," << (l.cut ? 1 : 0) << "," << l.pearson << ","
          << l.spearman << "," << l.mean_abs_diff << "\n";
      auto& s = ser[l.cut];
      double y[3] = {l.pearson, l.spearman, l.mean_abs_diff};
      for (int k = 0; k < 3; ++k) {
        s[k].x.push_back(l.depth);
        s[k].y.push_back(y[k]);
      }
    }
    for (bool cut : {true, false}) {
      for (int k = 0; k < 3 && !ser[cut][0].x.empty(); ++k) panels[k].series.push_back(ser[cut][k]);
    }
    all.push_back(to_json(r));
  }
  csv.close();
  std::ofstream(run.path("completeness.json")) << all.dump(2) << "\n";
  render::write_line_figure(run.path("completeness"), panels);
  run["results"]["completeness"] = all;
  run.add_output("completeness.csv", "per model and layer: depth, cut (1: every path crosses it), Pearson, Spearman, "
                                     "mean |f_v - E_l|");
  run.add_output("completeness.json", "the same with per-feature correlations");
  run.add_output("completeness.png", "Fig. 3 / Fig. 13 (also .svg, .gp, .dat)");
}

void completeness_run(const CompletenessRunOptions& a, RunManifest& run) {
  auto opt = a.completeness;
  opt.seed = a.model.seed;
  auto ds = data::open_dataset(a.data);
  run["dataset"] = {{"spec", a.data}, {"sha256", data::listing_hash(*ds)}, {"limit", opt.limit}};
  run["params"] = a;
  std::vector<CompletenessResult> results;
  for (const auto& spec : a.models) {
    auto source = a.model;
    source.spec = spec;
    auto m = model::load_model(source);
    run["models"][spec] = m->weights_id();
    results.push_back(completeness(*m, *ds, opt));
    for (const auto& l : results.back().layers) {
      spdlog::info("{} {:>12} depth {:.2f}: pearson {:.4f} spearman {:.4f} mean|f-E| {:.4g}", spec, l.layer,
                   l.depth, l.pearson, l.spearman, l.mean_abs_diff);
    }
  }
  write_completeness_outputs(results, run);
  run.write();
}

}  // namespace tension::analysis
