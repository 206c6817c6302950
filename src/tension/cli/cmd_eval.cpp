// tension eval MODEL DATA: top-1 accuracy of a classifier on a labelled dataset.
#include <iostream>

#include <fmt/format.h>

#include "tension/cli/common.h"
#include "tension/core/manifest.h"
#include "tension/data/dataset.h"
#include "tension/model/model.h"
#include "tension/train/classifier.h"

namespace tension::cli {

void register_eval(CLI::App& app) {
  struct Args {
    model::ModelSource model;
    std::string data;
    std::string out;
    int64_t batch_size = 256;
  };
  static Args a;
  auto* cmd = app.add_subcommand("eval", "top-1 accuracy of a model on a labelled dataset");
  add_model_options(cmd, a.model);
  cmd->add_option("data", a.data, "dataset (image folder with class sub-folders, IDX file, fashion-mnist)")
      ->required();
  cmd->add_option("--batch-size", a.batch_size)->capture_default_str();
  cmd->add_option("--out", a.out, "run folder for run.json");
  cmd->callback([] {
    a.model.device = global().device;
    auto m = model::load_model(a.model);
    auto ds = data::open_dataset(a.data);
    auto acc = train::evaluate_accuracy(*m, *ds, a.batch_size);
    std::cout << fmt::format("{} on {}: accuracy {:.4f} ({}/{}), {} unreadable\n", m->name(), ds->describe(),
                             acc.accuracy, acc.correct, acc.total, acc.failed);
    if (!a.out.empty()) {
      RunManifest run(a.out, "eval", global().argv);
      run["params"] = {{"model", a.model}, {"data", a.data}, {"batch_size", a.batch_size}};
      run["model"] = {{"weights", m->weights_id()}};
      run["dataset"] = {{"spec", a.data}, {"sha256", data::listing_hash(*ds)}, {"size", ds->size()}};
      run["results"] = {{"accuracy", acc.accuracy}, {"correct", acc.correct}, {"total", acc.total},
                        {"unreadable", acc.failed}};
      run.write();
    }
  });
}

}  // namespace tension::cli
