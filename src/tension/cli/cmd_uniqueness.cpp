// tension uniqueness MODEL DATA --layers L... --out DIR: the superposition experiment (paper §6 eq. 6, Fig 8a/8b;
// App H, Fig 16).
#include "tension/analysis/uniqueness_run.h"
#include "tension/cli/common.h"
#include "tension/core/manifest.h"

namespace tension::cli {

void register_uniqueness(CLI::App& app) {
  static analysis::UniquenessOptions a;
  static std::string out;
  auto* cmd = app.add_subcommand("uniqueness",
                                 "uniqueness U of the top-m images of n features per layer by f_v (MEIs), ||S||_1 "
                                 "and ||S||_2 in the preceding layer, and the images many features share (paper "
                                 "§6, Fig 8, App H, Fig 16)");
  add_model_options(cmd, a.model);
  cmd->add_option("data", a.data, "dataset")->required();
  cmd->add_option("--layers", a.layers, "feature layers, in depth order")->required()->delimiter(',');
  cmd->add_option("--attribution-layer", a.attribution_layers,
                  "per feature layer, the layer its features are attributed to (default: the preceding cut, the "
                  "'attribution layer' column of tension layers)")
      ->delimiter(',');
  cmd->add_option("-n", a.n, "features per layer and family")->capture_default_str();
  cmd->add_option("-m", a.m, "images per feature and selector")->capture_default_str();
  cmd->add_option("--features", a.families,
                  "feature families: units (random channels at the centre), kmeans "
                  "(App H's spread-out k-means directions, dot*cos^2)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--selectors", a.selectors,
                  "selection rules: mei (largest f_v), l1 (||S||_1), l2 (||S||_2 over "
                  "the whole vector), l21 (sum over positions of the channel L2 norm)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--shared-min", a.shared_min, "Fig 16: images in the top-m of at least this many features")
      ->capture_default_str();
  cmd->add_option("--kmeans-k", a.kmeans_k, "k-means family: first-stage clusters (App H: 1000)")
      ->capture_default_str();
  cmd->add_option("--rows-layer", a.rows_layer, "Fig 8b's layer (default: the deepest)");
  cmd->add_flag("!--no-crop-figures", a.crop_figures,
                "skip Fig 8b and Fig 16, whose crops cost one effective receptive field per layer");
  cmd->add_option("--rf-threshold", a.view.field.threshold,
                  "crops: threshold of the effective receptive field (paper: 0.05)")
      ->capture_default_str();
  cmd->add_option("--batch-size", a.pass.batch_size)->capture_default_str();
  cmd->add_option("--decode-threads", a.pass.decode_threads)->capture_default_str();
  cmd->add_option("--limit", a.pass.limit, "only the first N images (0 = all)")->capture_default_str();
  cmd->add_flag("!--no-verify", a.verify, "skip the checks of the attribution plan's speed-ups (recorded)");
  cmd->add_option("--plan-cache", a.plan_cache, "folder of cached plans ('' for none)")->capture_default_str();
  cmd->add_option("--out,-o", out, "output folder; an interrupted run resumes")->required();
  cmd->callback([] {
    a.model.device = global().device;
    RunManifest run(out, "uniqueness", global().argv);
    analysis::uniqueness_run(a, run);
  });
}

}  // namespace tension::cli
