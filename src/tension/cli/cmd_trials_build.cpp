// tension trials build MODEL DATA --layers L... --out BUNDLE: the trials of the human experiment (paper App B).
#include "tension/cli/common.h"
#include "tension/core/manifest.h"
#include "tension/trials/trials_build.h"

namespace tension::cli {

void register_trials_build(CLI::App* trials) {
  static trials::TrialsBuildOptions a;
  static std::string out;
  auto* cmd = trials->add_subcommand("build", "build the trials: per layer n random k-means features, each with its "
                                              "target MEI, 6 example MEIs, target MII and 7 distractors (App B)");
  add_model_options(cmd, a.model);
  cmd->add_option("data", a.data, "dataset")->required();
  cmd->add_option("--layers", a.layers, "layers in depth order (the paper: an early, a middle and a late one)")
      ->required()
      ->delimiter(',');
  cmd->add_option("-n", a.n, "features (trials) per layer")->capture_default_str();
  cmd->add_option("--kmeans-k", a.kmeans_k, "k-means clusters per layer")->capture_default_str();
  cmd->add_option("--cos-power", a.cos_power, "the activation is dot*cos^p")->capture_default_str();
  cmd->add_option("--crop-side", a.crop_side, "pixels of each crop's picture")->capture_default_str();
  cmd->add_option("--limit", a.limit, "only the first N images (0 = all)")->capture_default_str();
  cmd->add_option("--batch-size", a.batch_size, "images per batch")->capture_default_str();
  cmd->add_option("--out,-o", out, "the bundle's folder")->required();
  cmd->callback([] {
    a.model.device = global().device;
    RunManifest run(out, "trials build", global().argv);
    trials::trials_build(a, run);
  });
}

}  // namespace tension::cli
