// tension completeness MODEL [MODEL...] DATA: is sum(S_l) ~ f_v layer by layer (paper Fig. 3, Fig. 13)?
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "tension/analysis/completeness.h"
#include "tension/analysis/completeness_outputs.h"
#include "tension/cli/common.h"
#include "tension/core/error.h"
#include "tension/core/manifest.h"
#include "tension/data/dataset.h"

namespace tension::cli {

void register_completeness(CLI::App& app) {
  struct Args {
    std::vector<std::string> models_and_data;
    ModelArgs model;
    analysis::CompletenessOptions opt;
    std::string out = "out/completeness";
  };
  static Args a;
  auto* cmd = app.add_subcommand("completeness",
                                 "correlation of f_v and E_l = sum(S_l) through the pixels and every post-ReLU cut");
  cmd->add_option("models_and_data", a.models_and_data, "MODEL [MODEL...] DATA")->required()->expected(2, -1);
  add_model_options(cmd, a.model, false);
  cmd->add_option("--logits", a.opt.logits, "random units of the last layer")->capture_default_str();
  cmd->add_option("--feature,-f", a.opt.features, "explicit features instead of random logits");
  cmd->add_option("--layer,-l", a.opt.layers,
                  "attribution layers (default: 'input' and every post-ReLU layer that all paths cross)");
  cmd->add_flag("--all-relus", a.opt.all_relus, "also the post-ReLU layers that are not cuts (marked in the outputs)");
  cmd->add_option("--batch-size", a.opt.batch_size)->capture_default_str();
  cmd->add_option("--limit", a.opt.limit, "first N images (0 = all)")->capture_default_str();
  cmd->add_option("--out,-o", a.out, "output folder")->capture_default_str();
  cmd->callback([] {
    std::vector<std::string> models(a.models_and_data.begin(), a.models_and_data.end() - 1);
    const auto& data_spec = a.models_and_data.back();
    a.opt.seed = a.model.seed;
    RunManifest run(a.out, "completeness", global().argv);
    auto ds = data::open_dataset(data_spec);
    run["dataset"] = {{"spec", data_spec}, {"sha256", data::listing_hash(*ds)}, {"limit", a.opt.limit}};
    run["params"] = {{"logits", a.opt.logits}, {"features", a.opt.features}, {"layers", a.opt.layers},
                     {"all_relus", a.opt.all_relus}, {"seed", a.opt.seed}};
    std::vector<analysis::CompletenessResult> results;
    for (const auto& spec : models) {
      ModelArgs ma = a.model;
      ma.spec = spec;
      auto m = load_model(ma);
      run["models"][spec] = m->weights_id();
      results.push_back(analysis::completeness(*m, *ds, a.opt));
      for (const auto& l : results.back().layers) {
        spdlog::info("{} {:>12} depth {:.2f}: pearson {:.4f} spearman {:.4f} mean|f-E| {:.4g}", spec, l.layer,
                     l.depth, l.pearson, l.spearman, l.mean_abs_diff);
      }
    }
    analysis::write_completeness_outputs(results, run);
    run.write();
  });
}

}  // namespace tension::cli
