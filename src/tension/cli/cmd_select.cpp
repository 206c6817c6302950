// tension select RUN --rule R [--rule R ...] -k N: tense, exciting, inhibiting and silent images of a run, with
// their ± maps, the (E+, E-) scatter and an interactive page (paper §3, Fig 2, Fig 4).
#include <spdlog/spdlog.h>

#include "tension/analysis/feature_view.h"
#include "tension/analysis/selection_outputs.h"
#include "tension/cli/common.h"
#include "tension/cli/run_inputs.h"
#include "tension/core/manifest.h"

namespace tension::cli {

void register_select(CLI::App& app) {
  struct Args {
    std::string run, out, feature = "0", layer = "0";
    std::vector<std::string> rules{"mei", "mii", "zero", "spatial", "channel", "mti"};
    analysis::SelectionOutputOptions opt;
    analysis::FeatureViewOptions view;
    int64_t rows = 0;
  };
  static Args a;
  auto* cmd = app.add_subcommand("select", "select images by rule (mei, mii, zero, spatial, channel, mti) from a "
                                           "run, with ± attribution maps, the E± scatter and an interactive page");
  cmd->add_option("run", a.run, "run folder written by tension attribute")->required();
  cmd->add_option("--out,-o", a.out, "output folder (default RUN/select)");
  cmd->add_option("--feature,-f", a.feature, "the run's feature, by index or spec")->capture_default_str();
  cmd->add_option("--layer,-l", a.layer, "the run's attribution layer, by index or name")->capture_default_str();
  cmd->add_option("--rule,-r", a.rules, "rule, or rules joined by '+' (all must hold; ranked by the last); "
                                        "repeatable")->capture_default_str();
  cmd->add_option("-k", a.opt.rules.k, "images per rule")->capture_default_str();
  cmd->add_option("--mti-low", a.opt.rules.mti_low_sd, "mti: f_v above this many sd of f_v")->capture_default_str();
  cmd->add_option("--mti-high", a.opt.rules.mti_high_sd, "mti: f_v below this many sd of f_v")->capture_default_str();
  cmd->add_option("--spatial-low", a.opt.rules.spatial_low_pct, "spatial: low percentile of phi+ - phi-")
      ->capture_default_str();
  cmd->add_option("--spatial-high", a.opt.rules.spatial_high_pct, "spatial: high percentile of phi+ - phi-")
      ->capture_default_str();
  cmd->add_option("--channel-pct", a.opt.rules.channel_pct, "channel: percentile both phi+ and phi- must pass")
      ->capture_default_str();
  cmd->add_option("--overlay-lo", a.view.overlay_lo_pct, "overlay: lower threshold percentile")->capture_default_str();
  cmd->add_option("--overlay-hi", a.view.overlay_hi_pct, "overlay: upper threshold percentile")->capture_default_str();
  cmd->add_flag("--per-row-scale", a.opt.per_row_scale,
               "overlay scale per grid row instead of pooled over every image shown (the paper pools)");
  cmd->add_option("--canvas", a.view.canvas, "side of a drawn crop in pixels")->capture_default_str();
  cmd->add_option("--rf-threshold", a.view.field.threshold,
                  "crops: the effective receptive field above this fraction of its peak (the paper's figures: 0.05)")
      ->capture_default_str();
  cmd->add_option("--page-points", a.opt.page_points, "points on the interactive page")->capture_default_str();
  cmd->add_option("--rows", a.rows, "also draw MEI and MII rows of this many images for every feature of the run "
                                    "(Fig 2)")->capture_default_str();
  cmd->callback([] {
    auto in = open_run_inputs(a.run);
    const size_t f = run_feature_index(*in.store, a.feature), l = run_layer_index(*in.store, a.layer);
    RunManifest run(a.out.empty() ? a.run + "/select" : a.out, "select", global().argv);
    run["params"] = {{"run", a.run},
                     {"feature", in.store->config()["features"][f]},
                     {"layer", in.store->config()["layers"][l]},
                     {"rules", a.rules},
                     {"k", a.opt.rules.k},
                     {"mti_sd", {a.opt.rules.mti_low_sd, a.opt.rules.mti_high_sd}},
                     {"spatial_pct", {a.opt.rules.spatial_low_pct, a.opt.rules.spatial_high_pct}},
                     {"channel_pct", a.opt.rules.channel_pct},
                     {"overlay_pct", {a.view.overlay_lo_pct, a.view.overlay_hi_pct}},
                     {"per_row_scale", a.opt.per_row_scale},
                     {"rf_threshold", a.view.field.threshold}};
    run["run_config"] = in.store->config();
    run.write("running");
    analysis::FeatureView view(*in.store, *in.model, *in.data, f, l, a.view);
    auto runs = analysis::write_selection_outputs(view, a.rules, a.opt, run);
    for (const auto& r : runs) run["results"][r.spec] = r.selected.size();
    const auto& rf = view.receptive_field();
    run["results"]["crop_box"] = {rf.top, rf.left, rf.bottom, rf.right};
    if (a.rows > 0) {
      std::vector<std::unique_ptr<analysis::FeatureView>> views;
      std::vector<const analysis::FeatureView*> ptrs;
      for (size_t k = 0; k < in.store->config()["features"].size(); ++k) {
        views.push_back(std::make_unique<analysis::FeatureView>(*in.store, *in.model, *in.data, k, l, a.view));
        ptrs.push_back(views.back().get());
      }
      analysis::write_mei_mii_rows(ptrs, a.rows, run.path("mei-mii.png"));
      run.add_output("mei-mii.png", "per feature of the run: a row of MEIs, then a row of MIIs (Fig 2)");
    }
    run.write();
    spdlog::info("selection of {} images ({} rule(s)) in {}", view.items().size(), runs.size(), run.dir());
  });
}

}  // namespace tension::cli
