#include "tension/analysis/inversion_check_run.h"

#include <spdlog/spdlog.h>

#include "tension/core/npy.h"
#include "tension/data/dataset.h"
#include "tension/model/model.h"

namespace tension::analysis {

namespace {

// The check's options with the run's seed and recipe overrides applied.
InversionCheckOptions resolved(const InversionCheckRunOptions& a) {
  auto o = a.check;
  o.seed = a.model.seed;
  if (a.steps) o.optimize.steps = *a.steps;
  if (a.lr) o.optimize.lr = *a.lr;
  if (a.transforms) o.optimize.transforms.count = *a.transforms;
  return o;
}

}  // namespace

void to_json(nlohmann::json& j, const InversionCheckRunOptions& a) {
  j = resolved(a);
  j["model"] = a.model;
  j["data"] = a.data;
  j["spectrum"] = a.spectrum;
}

void inversion_check_run(const InversionCheckRunOptions& a, RunManifest& run) {
  auto m = model::load_model(a.model);
  auto ds = data::open_dataset(a.data);
  auto o = resolved(a);
  if (!a.spectrum.empty()) o.spectrum = read_npy(a.spectrum);
  run["params"] = a;
  run["model"] = {{"weights", m->weights_id()}};
  run["dataset"] = {{"spec", a.data}, {"sha256", data::listing_hash(*ds)}, {"size", ds->size()}};
  run.write("running");
  auto res = inversion_check(*m, *ds, o, run.dir());
  run["results"] = {{"complete", res.complete}, {"pairs_done_before", res.pairs_done_before},
                    {"pairs_rendered", res.pairs_rendered}};
  run.add_output("protocol.json", "the options that decide the numbers (a rerun with other options fails)");
  run.add_output("mtis.csv", "per layer, unit and rank: the MTI's dataset index, f_v, and sd(f_v) over the data");
  run.add_output("curves.csv", "per layer, unit, MTI image, sign (s+, s-) and step: f_v, f_v / sd(f_v)");
  if (!res.complete) {
    run.write("incomplete");
    spdlog::info("stopped after --max-batches {}: rerun with --out {} to go on", o.max_batches, run.dir());
    return;
  }
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& s : res.layers) {
    layers.push_back({{"layer", s.layer}, {"through", s.through}, {"units", s.units}, {"pairs", s.pairs},
                      {"s_pos_raised", s.s_pos_raised}, {"s_neg_lowered", s.s_neg_lowered}, {"both", s.both}});
    spdlog::info("{} through {}: S+ raised f_v in {:.0f}% of {} pairs, S- lowered it in {:.0f}%, both in {:.0f}%",
                 s.layer, s.through, 100 * s.s_pos_raised, s.pairs, 100 * s.s_neg_lowered, 100 * s.both);
  }
  run["results"]["layers"] = layers;
  run.add_output("fig14.png", "Fig. 14: per layer, f_v / sd over the steps, median and range over the pairs, S+ and "
                              "S- (also .svg, .gp, .dat)");
  run.add_output("summary.csv", "per layer: fractions of pairs whose S+ ends above its start, S- below, both; "
                                "median f_v / sd at the end");
  run.add_output("summary.json", "the same as JSON");
  run.write();
}

}  // namespace tension::analysis
