// tension weights MODEL [MODEL...]: fraction of negative weights and standardised weight histograms (Fig. 12).
#include "tension/analysis/weight_outputs.h"
#include "tension/cli/common.h"
#include "tension/core/manifest.h"

namespace tension::cli {

void register_weights(CLI::App& app) {
  struct Args {
    std::vector<std::string> models;
    model::ModelSource model;
    std::string out = "out/weights";
  };
  static Args a;
  auto* cmd = app.add_subcommand("weights", "fraction of negative weights and standardised weight histograms");
  cmd->add_option("models", a.models, "MODEL [MODEL...]")->required();
  add_model_options(cmd, a.model, false);
  cmd->add_option("--out,-o", a.out, "output folder")->capture_default_str();
  cmd->callback([] {
    a.model.device = global().device;
    RunManifest run(a.out, "weights", global().argv);
    analysis::weights_run(a.models, a.model, run);
  });
}

}  // namespace tension::cli
