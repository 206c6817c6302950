// tension visualize MODEL -f FEATURE -l LAYER -t s+ -t s- --from IMAGE --from noise --out DIR: accentuations
// (from an image) and inversions (from noise) of an image's attribution, and plain feature visualisations,
// batched; the Fig. 5 row, curve.csv and the images.
#include "tension/analysis/visualize_run.h"
#include "tension/cli/common.h"
#include "tension/core/manifest.h"

namespace tension::cli {

void register_visualize(CLI::App& app) {
  static analysis::VisualizeOptions a;
  static std::string out;
  auto* cmd = app.add_subcommand("visualize",
                                 "accentuate (from an image) or invert (from noise) an image's +/- attribution to "
                                 "a feature, or visualise the feature (max/min); paper §4, Fig. 5");
  add_model_options(cmd, a.model);
  cmd->add_option("--feature,-f", a.feature, "LAYER:UNIT[@ROW,COL] or LAYER:@FILE.npy#ROW")->required();
  cmd->add_option("--layer,-l", a.layer, "attribution layer of the s+/s-/abs targets (a tap)");
  cmd->add_option("--target,-t", a.targets, "s+, s-, abs (attribution) or max, min (the feature); repeatable")
      ->capture_default_str();
  cmd->add_option("--from", a.from, "noise (inversion) or an IMAGE (accentuation); repeatable")->capture_default_str();
  cmd->add_option("--image", a.image,
                  "the image whose attribution is the target (a file or DATA#K); default: the --from image");
  cmd->add_option("--data", a.data, "dataset for the feature's standard deviation (curve.csv) and the MACO spectrum");
  cmd->add_option("--data-images", a.data_images, "images of --data used (0 = all)")->capture_default_str();
  cmd->add_option("--spectrum", a.spectrum, "MACO magnitude spectrum (.npy from `tension spectrum`)");
  cmd->add_option("--param", a.param, "image parameterisation: maco, fourier or pixel")->capture_default_str();
  cmd->add_option("--canvas", a.canvas, "canvas side (default: 512 for a 224 input, in proportion)");
  cmd->add_option("--cos-power", a.cos_power, "p of dot*cos^p (eq. 5)")->capture_default_str();
  cmd->add_option("--steps", a.steps, "optimisation steps (default 121 for s+/s-/abs, 101 for max/min)");
  cmd->add_option("--lr", a.lr, "Adam learning rate (default 0.02 for s+/s-/abs, 0.05 for max/min)");
  cmd->add_option("--transforms", a.transforms, "transformation draws per step (default 16 / 8)");
  cmd->add_option("--rf-threshold", a.rf_threshold,
                  "the seed column: the seed cropped to the feature's effective receptive field above this fraction "
                  "of its peak (the paper: 0.05)")
      ->capture_default_str();
  cmd->add_option("--out,-o", out, "output folder")->required();
  cmd->callback([] {
    a.model.device = global().device;
    RunManifest run(out, "visualize", global().argv);
    analysis::visualize_run(a, run);
  });
}

}  // namespace tension::cli
