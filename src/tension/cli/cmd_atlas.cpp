// tension atlas RUN [--feature F --layer L --images N --grid n]: the feature attribution atlas of one feature and
// layer of a run (paper §5, Fig 6): selection, UMAP layout, icons, the atlas picture and an interactive page.
#include "tension/atlas/atlas_run.h"
#include "tension/cli/common.h"
#include "tension/core/manifest.h"

namespace tension::cli {

void register_atlas(CLI::App& app) {
  static atlas::AtlasRunOptions a;
  static std::string out;
  auto& o = a.atlas;
  auto* cmd = app.add_subcommand("atlas", "feature attribution atlas of a run's feature and layer: UMAP of the "
                                          "attributions, icons by inversion, static and interactive (Fig 6)");
  cmd->add_option("run", a.run, "run folder written by tension attribute")->required();
  cmd->add_option("--out,-o", out, "output folder (default RUN/atlas); rerun with the same folder to resume the "
                                     "icon stage");
  cmd->add_option("--feature,-f", a.feature, "the run's feature, by index or spec")->capture_default_str();
  cmd->add_option("--layer,-l", a.layer, "the run's attribution layer, by index or name")->capture_default_str();
  cmd->add_option("--images,-n", o.images, "the top N images by L2,1 attribution norm")->capture_default_str();
  cmd->add_option("--grid", o.grid.n, "n x n grid cells")->capture_default_str();
  cmd->add_option("--min-points", o.grid.min_points, "a cell becomes an icon with more than this many images")
      ->capture_default_str();
  cmd->add_option("--neighbors", o.umap.neighbors, "UMAP neighbours")->capture_default_str();
  cmd->add_option("--min-dist", o.umap.min_dist, "UMAP min_dist")->capture_default_str();
  cmd->add_option("--epochs", o.umap.epochs, "UMAP epochs (0: umap-learn's default)")->capture_default_str();
  cmd->add_option("--seed", o.umap.seed, "seed of the layout and the icons")->capture_default_str();
  cmd->add_option("--icon-steps", o.icons.steps, "Adam steps per icon")->capture_default_str();
  cmd->add_option("--icon-lr", o.icons.lr, "Adam learning rate of the icons")->capture_default_str();
  cmd->add_option("--icon-batch", o.icons.batch, "icons per optimisation batch")->capture_default_str();
  cmd->add_option("--icon-draws", o.icons.draws, "random transformations per step")->capture_default_str();
  cmd->add_option("--cos-power", o.icons.cos_power, "p of the icons' dot*cos^p objective")->capture_default_str();
  cmd->add_option("--canvas", o.icons.canvas, "icon canvas side (0: 512 at a 224 input, scaled)")
      ->capture_default_str();
  cmd->add_option("--param", o.icons.param, "icon parameterisation: maco, fourier or pixel")->capture_default_str();
  cmd->add_option("--icon-px", o.tile.px, "icon side in the atlas picture")->capture_default_str();
  cmd->add_option("--colour-sds", o.colour_sds, "border colours span mean -/+ this many sd of f_v")
      ->capture_default_str();
  cmd->add_option("--top-images", o.top_images, "images per cell on the page")->capture_default_str();
  cmd->add_option("--rf-threshold", o.field.threshold,
                  "icon and image crops: the effective receptive field above this fraction of its peak (the paper's "
                  "atlas: 0.2)")
      ->capture_default_str();
  cmd->callback([] {
    a.device = global().device;
    a.atlas.icons.seed = a.atlas.umap.seed;  // --seed seeds both
    RunManifest run(out.empty() ? a.run + "/atlas" : out, "atlas", global().argv);
    atlas::atlas_run(a, run);
  });
}

}  // namespace tension::cli
