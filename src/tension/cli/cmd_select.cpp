// tension select RUN --rule R [--rule R ...] -k N: tense, exciting, inhibiting and silent images of a run, with
// their ± maps, the (E+, E-) scatter and an interactive page (paper §3, Fig 2, Fig 4).
#include "tension/analysis/select_run.h"
#include "tension/cli/common.h"
#include "tension/core/manifest.h"

namespace tension::cli {

void register_select(CLI::App& app) {
  static analysis::SelectOptions a;
  static std::string out;
  auto* cmd = app.add_subcommand("select", "select images by rule (mei, mii, zero, spatial, channel, mti, l1, l2, "
                                           "l21) from a run, with ± attribution maps, the E± scatter and an "
                                           "interactive page");
  cmd->add_option("run", a.run, "run folder written by tension attribute")->required();
  cmd->add_option("--out,-o", out, "output folder (default RUN/select)");
  cmd->add_option("--feature,-f", a.feature, "the run's feature, by index or spec")->capture_default_str();
  cmd->add_option("--layer,-l", a.layer, "the run's attribution layer, by index or name")->capture_default_str();
  cmd->add_option("--rule,-r", a.rules, "rule, or rules joined by '+' (all must hold; ranked by the last); "
                                        "repeatable")->capture_default_str();
  cmd->add_option("-k", a.selection.rules.k, "images per rule")->capture_default_str();
  cmd->add_option("--mti-low", a.selection.rules.mti_low_sd, "mti: f_v above this many sd of f_v")->capture_default_str();
  cmd->add_option("--mti-high", a.selection.rules.mti_high_sd, "mti: f_v below this many sd of f_v")->capture_default_str();
  cmd->add_option("--spatial-low", a.selection.rules.spatial_low_pct, "spatial: low percentile of phi+ - phi-")
      ->capture_default_str();
  cmd->add_option("--spatial-high", a.selection.rules.spatial_high_pct, "spatial: high percentile of phi+ - phi-")
      ->capture_default_str();
  cmd->add_option("--channel-pct", a.selection.rules.channel_pct, "channel: percentile both phi+ and phi- must pass")
      ->capture_default_str();
  cmd->add_option("--overlay-lo", a.view.overlay_lo_pct, "overlay: lower threshold percentile")->capture_default_str();
  cmd->add_option("--overlay-hi", a.view.overlay_hi_pct, "overlay: upper threshold percentile")->capture_default_str();
  cmd->add_flag("--per-row-scale", a.selection.per_row_scale,
               "overlay scale per grid row instead of pooled over every image shown (the paper pools)");
  cmd->add_option("--canvas", a.view.canvas, "side of a drawn crop in pixels")->capture_default_str();
  cmd->add_option("--rf-threshold", a.view.field.threshold,
                  "crops: the effective receptive field above this fraction of its peak (the paper's figures: 0.05)")
      ->capture_default_str();
  cmd->add_option("--page-points", a.selection.page_points, "points on the interactive page")->capture_default_str();
  cmd->add_option("--scatter-points", a.selection.scatter_points,
                  "points on scatter.png: beyond this many images, the selected ones and an even sample")
      ->capture_default_str();
  cmd->add_option("--rows", a.rows, "also draw MEI and MII rows of this many images for every feature of the run "
                                    "(Fig 2)")->capture_default_str();
  cmd->callback([] {
    a.device = global().device;
    RunManifest run(out.empty() ? a.run + "/select" : out, "select", global().argv);
    analysis::select_run(a, run);
  });
}

}  // namespace tension::cli
