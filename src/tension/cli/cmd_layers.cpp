// tension layers MODEL: every addressable tap with its shape and the centre unit's receptive field.
#include <iostream>
#include <memory>

#include "tension/analysis/layer_table.h"
#include "tension/cli/common.h"

namespace tension::cli {

void register_layers(CLI::App& app) {
  static analysis::LayersOptions o;
  static std::string out;
  auto* cmd = app.add_subcommand("layers", "list every addressable layer with its shape and receptive field");
  add_model_options(cmd, o.model);
  cmd->add_flag("--json", o.json, "print JSON instead of a table");
  cmd->add_flag("--effective-field", o.effective_field,
                "also each spatial tap's effective receptive field (the crops shown to a person) at thresholds 0.05 "
                "and 0.2 (slow: 300 passes of 30 images per tap)");
  static std::string rf = "arithmetic";
  cmd->add_option("--rf", rf,
                  "how receptive fields are found: arithmetic (from the layers' kernels, strides and paddings; "
                  "measured where an op is not covered) or gradient (gradient supports over random inputs)")
      ->check(CLI::IsMember({"arithmetic", "gradient"}))
      ->capture_default_str();
  cmd->add_option("--out", out, "also write layers.json and run.json into this folder");
  cmd->callback([] {
    o.model.device = global().device;
    o.rf = nlohmann::json(rf).get<model::FieldMethod>();
    std::unique_ptr<RunManifest> run;
    if (!out.empty()) run = std::make_unique<RunManifest>(out, "layers", global().argv);
    std::cout << analysis::layers_run(o, run.get());
  });
}

}  // namespace tension::cli
