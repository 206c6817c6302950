// tension layers MODEL: every addressable tap with its shape and the centre unit's receptive field.
#include <iostream>

#include "tension/analysis/layer_table.h"
#include "tension/cli/common.h"
#include "tension/core/manifest.h"
#include "tension/model/model.h"

namespace tension::cli {

void register_layers(CLI::App& app) {
  struct Args {
    model::ModelSource model;
    std::string out;
    bool json = false, effective_field = false;
  };
  static Args a;
  auto* cmd = app.add_subcommand("layers", "list every addressable layer with its shape and receptive field");
  add_model_options(cmd, a.model);
  cmd->add_flag("--json", a.json, "print JSON instead of a table");
  cmd->add_flag("--effective-field", a.effective_field,
                "also each spatial tap's effective receptive field (the crops shown to a person) at thresholds 0.05 "
                "and 0.2 (slow: 300 passes of 30 images per tap)");
  cmd->add_option("--out", a.out, "also write layers.json and run.json into this folder");
  cmd->callback([] {
    a.model.device = global().device;
    auto m = model::load_model(a.model);
    auto t = analysis::layer_table(*m, a.model.seed, a.effective_field);
    std::cout << (a.json ? t.json.dump(2) + "\n" : analysis::layer_table_text(*m, t));
    if (!a.out.empty()) {
      RunManifest run(a.out, "layers", global().argv);
      run["params"]["model"] = a.model;
      analysis::write_layer_table(*m, t, run);
    }
  });
}

}  // namespace tension::cli
