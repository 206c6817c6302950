#include "tension/train/eval_run.h"

#include "tension/data/dataset.h"

namespace tension::train {

Accuracy eval_run(const EvalOptions& opt, RunManifest* run) {
  auto m = model::load_model(opt.model);
  auto ds = data::open_dataset(opt.data);
  auto acc = evaluate_accuracy(*m, *ds, opt.batch_size);
  if (run) {
    (*run)["params"] = opt;
    (*run)["model"] = {{"weights", m->weights_id()}};
    (*run)["dataset"] = {{"spec", opt.data}, {"sha256", data::listing_hash(*ds)}, {"size", ds->size()}};
    (*run)["results"] = {{"accuracy", acc.accuracy}, {"correct", acc.correct}, {"total", acc.total},
                         {"unreadable", acc.failed}};
    run->write();
  }
  return acc;
}

}  // namespace tension::train
