// tension demo: every analysis on the embedded default (Fashion-MNIST CNNs), one HTML report.
#include "tension/cli/common.h"
#include "tension/core/manifest.h"
#include "tension/report/demo.h"

namespace tension::cli {

void register_demo(CLI::App& app) {
  static report::DemoOptions a;
  static std::string out = "out/demo";
  auto* cmd = app.add_subcommand("demo", "run the analyses on the embedded default and write one HTML report");
  cmd->add_option("--out", out, "report folder")->capture_default_str();
  cmd->add_option("--data", a.data, "dataset")->capture_default_str();
  cmd->add_option("--atlas-data", a.atlas_data, "dataset the atlas section selects its images from")
      ->capture_default_str();
  cmd->add_option("--seed", a.seed)->capture_default_str();
  cmd->add_option("--completeness-images", a.completeness_images, "test images for the completeness section")
      ->capture_default_str();
  cmd->callback([] {
    a.device = global().device;
    RunManifest run(out, "demo", global().argv);
    report::run_demo(a, run);
  });
}

}  // namespace tension::cli
