// tension completeness MODEL [MODEL...] DATA: is sum(S_l) ~ f_v layer by layer (paper Fig. 3, Fig. 13)?
#include "tension/analysis/completeness_outputs.h"
#include "tension/cli/common.h"
#include "tension/core/manifest.h"

namespace tension::cli {

void register_completeness(CLI::App& app) {
  struct Args {
    std::vector<std::string> models_and_data;
    analysis::CompletenessRunOptions run;
    std::string out = "out/completeness";
  };
  static Args a;
  auto* cmd = app.add_subcommand("completeness",
                                 "correlation of f_v and E_l = sum(S_l) through the pixels and every post-ReLU cut");
  cmd->add_option("models_and_data", a.models_and_data, "MODEL [MODEL...] DATA")->required()->expected(2, -1);
  add_model_options(cmd, a.run.model, false);
  cmd->add_option("--logits", a.run.completeness.logits, "random units of the last layer")->capture_default_str();
  cmd->add_option("--feature,-f", a.run.completeness.features, "explicit features instead of random logits");
  cmd->add_option("--layer,-l", a.run.completeness.layers,
                  "attribution layers (default: 'input' and every post-ReLU layer that all paths cross)");
  cmd->add_flag("--all-relus", a.run.completeness.all_relus, "also the post-ReLU layers that are not cuts (marked in the outputs)");
  cmd->add_option("--batch-size", a.run.completeness.batch_size)->capture_default_str();
  cmd->add_option("--limit", a.run.completeness.limit, "first N images (0 = all)")->capture_default_str();
  cmd->add_option("--out,-o", a.out, "output folder")->capture_default_str();
  cmd->callback([] {
    a.run.models.assign(a.models_and_data.begin(), a.models_and_data.end() - 1);
    a.run.data = a.models_and_data.back();
    a.run.model.device = global().device;
    RunManifest run(a.out, "completeness", global().argv);
    analysis::completeness_run(a.run, run);
  });
}

}  // namespace tension::cli
