// tension inversion-check MODEL DATA --layers L1,L2 [--through P1,P2] --units 20 --mtis 10 --out DIR: paper App. F,
// do S+ / S- inversions excite / inhibit the unit (Fig. 14)? Rerun with the same folder to resume.
#include "tension/analysis/inversion_check_run.h"
#include "tension/cli/common.h"
#include "tension/core/manifest.h"

namespace tension::cli {

void register_inversion_check(CLI::App& app) {
  static analysis::InversionCheckRunOptions a;
  static std::string out;
  auto& o = a.check;
  auto* cmd = app.add_subcommand("inversion-check",
                                 "App. F: S+ and S- attribution inversions of random units' MTIs through a preceding "
                                 "layer, f_v per step in sd of the unit (Fig. 14); resumable");
  add_model_options(cmd, a.model);
  cmd->add_option("data", a.data, "dataset: the MTI search, sd(f_v) and the MACO spectrum")->required();
  cmd->add_option("--layers", o.layers, "the units' layers, comma-separated")->delimiter(',')->required();
  cmd->add_option("--through", o.through,
                  "per layer, the layer the inversion goes through (default: the layer listed before it; for the "
                  "first, the input)")->delimiter(',');
  cmd->add_option("--units", o.units, "random units per layer")->capture_default_str();
  cmd->add_option("--mtis", o.mtis, "MTIs per unit")->capture_default_str();
  cmd->add_option("--search-images", o.search_images, "images searched for MTIs and sd(f_v) (0 = all)")
      ->capture_default_str();
  cmd->add_option("--start", o.start, "noise (inversion, App. F) or mti (accentuation from the MTI)")
      ->capture_default_str();
  cmd->add_option("--steps", a.steps, "optimisation steps (default 121)");
  cmd->add_option("--lr", a.lr, "Adam learning rate (default 0.02)");
  cmd->add_option("--transforms", a.transforms, "transformation draws per step (default 16)");
  cmd->add_option("--param", o.param, "image parameterisation: maco, fourier or pixel")->capture_default_str();
  cmd->add_option("--canvas", o.canvas, "canvas side (0: 512 for a 224 input, in proportion)")->capture_default_str();
  cmd->add_option("--spectrum", a.spectrum, "MACO magnitude spectrum (.npy; default: estimated from DATA)");
  cmd->add_option("--cos-power", o.cos_power, "p of dot*cos^p (eq. 5)")->capture_default_str();
  cmd->add_option("--batch", o.batch, "inversions per optimisation batch (speed only)")->capture_default_str();
  cmd->add_option("--max-batches", o.max_batches, "stop after this many batches; rerun to go on (0: run to the end)")
      ->capture_default_str();
  cmd->add_option("--out,-o", out, "output folder (rerun with the same folder to resume)")->required();
  cmd->callback([] {
    a.model.device = global().device;
    RunManifest run(out, "inversion-check", global().argv);
    analysis::inversion_check_run(a, run);
  });
}

}  // namespace tension::cli
