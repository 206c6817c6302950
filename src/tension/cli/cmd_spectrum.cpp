// tension spectrum DATA --size N --out DIR: the mean magnitude spectrum of a dataset's decorrelated images,
// for MACO inversions on the user's own data.
#include "tension/cli/common.h"
#include "tension/core/manifest.h"
#include "tension/viz/spectrum_outputs.h"

namespace tension::cli {

void register_spectrum(CLI::App& app) {
  static viz::SpectrumRunOptions a;
  static std::string out;
  auto* cmd = app.add_subcommand("spectrum",
                                 "mean |rfft2| of a dataset's decorrelated images (the MACO magnitude for "
                                 "`visualize --spectrum`)");
  cmd->add_option("data", a.data, "dataset")->required();
  cmd->add_option("--size", a.size, "canvas side the images are resized to")->capture_default_str();
  cmd->add_option("--channels", a.channels, "1 (grey models) or 3 (RGB)")->capture_default_str();
  cmd->add_option("--limit", a.limit, "only the first N images (0 = all)")->capture_default_str();
  cmd->add_option("--decode-threads", a.decode_threads)->capture_default_str();
  cmd->add_option("--out,-o", out, "output folder (spectrum.npy, spectrum.png, run.json)")->required();
  cmd->callback([] {
    RunManifest run(out, "spectrum", global().argv);
    viz::spectrum_run(a, run);
  });
}

}  // namespace tension::cli
