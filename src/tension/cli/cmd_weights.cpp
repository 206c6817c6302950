// tension weights MODEL [MODEL...]: fraction of negative weights and standardised weight histograms (Fig. 12).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "tension/analysis/weight_outputs.h"
#include "tension/analysis/weight_signs.h"
#include "tension/cli/common.h"
#include "tension/core/manifest.h"

namespace tension::cli {

void register_weights(CLI::App& app) {
  struct Args {
    std::vector<std::string> models;
    ModelArgs model;
    std::string out = "out/weights";
  };
  static Args a;
  auto* cmd = app.add_subcommand("weights", "fraction of negative weights and standardised weight histograms");
  cmd->add_option("models", a.models, "MODEL [MODEL...]")->required();
  add_model_options(cmd, a.model, false);
  cmd->add_option("--out,-o", a.out, "output folder")->capture_default_str();
  cmd->callback([] {
    RunManifest run(a.out, "weights", global().argv);
    std::vector<analysis::WeightSigns> all;
    for (const auto& spec : a.models) {
      ModelArgs ma = a.model;
      ma.spec = spec;
      auto m = load_model(ma);
      run["models"][spec] = m->weights_id();
      all.push_back(analysis::weight_signs(*m));
      int64_t n = 0;
      for (const auto& l : all.back().layers) n += l.count;
      spdlog::info("{}: {:.2f}% of {} kernel weights are negative", spec, 100 * all.back().fraction_negative, n);
    }
    analysis::write_weight_outputs(all, run);
    run.write();
  });
}

}  // namespace tension::cli
