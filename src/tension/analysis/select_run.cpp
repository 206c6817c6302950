#include "tension/analysis/select_run.h"

#include <spdlog/spdlog.h>

#include "tension/store/run_inputs.h"

namespace tension::analysis {

void select_run(const SelectOptions& a, RunManifest& run) {
  auto target = store::open_run_target(a.run, a.device, a.feature, a.layer, a, run);
  auto& in = target.in;
  const size_t f = target.feature, l = target.layer;
  FeatureView view(*in.store, *in.model, *in.data, f, l, a.view);
  auto runs = write_selection_outputs(view, a.rules, a.selection, run);
  for (const auto& r : runs) run["results"][r.spec] = r.selected.size();
  run["results"]["crop"] = {{"threshold", a.view.field.threshold}, {"box", view.receptive_field()}};
  if (a.rows > 0) {
    write_mei_mii_rows(*in.store, *in.model, *in.data, l, a.view, a.rows, run.path("mei-mii.png"));
    run.add_output("mei-mii.png", "per feature of the run: a row of MEIs, then a row of MIIs (Fig 2)");
  }
  run.write();
  spdlog::info("selection of {} images ({} rule(s)) in {}", view.size(), runs.size(), run.dir());
}

}  // namespace tension::analysis
