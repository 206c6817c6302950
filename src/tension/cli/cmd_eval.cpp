// tension eval MODEL DATA: top-1 accuracy of a classifier on a labelled dataset.
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "tension/cli/common.h"
#include "tension/train/eval_run.h"

namespace tension::cli {

void register_eval(CLI::App& app) {
  static train::EvalOptions o;
  static std::string out;
  auto* cmd = app.add_subcommand("eval", "top-1 accuracy of a model on a labelled dataset");
  add_model_options(cmd, o.model);
  cmd->add_option("data", o.data, "dataset (image folder with class sub-folders, IDX file, fashion-mnist)")
      ->required();
  cmd->add_option("--batch-size", o.batch_size)->capture_default_str();
  cmd->add_option("--out", out, "run folder for run.json");
  cmd->callback([] {
    o.model.device = global().device;
    std::unique_ptr<RunManifest> run;
    if (!out.empty()) run = std::make_unique<RunManifest>(out, "eval", global().argv);
    auto acc = train::eval_run(o, run.get());
    std::cout << fmt::format("{} on {}: accuracy {:.4f} ({}/{}), {} unreadable\n", o.model.spec, o.data, acc.accuracy,
                             acc.correct, acc.total, acc.failed);
  });
}

}  // namespace tension::cli
