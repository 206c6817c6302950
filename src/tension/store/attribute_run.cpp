#include "tension/store/attribute_run.h"

#include <spdlog/spdlog.h>

#include "tension/attribution/attributor.h"
#include "tension/core/interrupt.h"
#include "tension/data/dataset.h"
#include "tension/model/model.h"
#include "tension/store/run_store.h"

namespace tension::store {

void attribute_run(const AttributeOptions& a, RunManifest& run) {
  auto m = model::load_model(a.model);
  auto ds = data::open_dataset(a.data);

  // The store's configuration: a resumed pass must match it.
  nlohmann::json config = {
      {"model", a.model},
      {"model_weights", m->weights_id()},
      {"data", {{"spec", a.data}, {"listing_sha256", data::listing_hash(*ds)}, {"limit", a.pass.limit}}},
      {"features", a.features},
      {"cos_power", a.cos_power},
      {"layers", a.layers},
      {"keep_channels", a.pass.keep_channels},
      {"keep_s", a.pass.keep_s},
      {"seed", a.model.seed}};
  // A shard is one part of a run (tension merge joins the parts): its config says which, and of which batches.
  if (a.pass.shard.count > 1) {
    if (a.pass.batch_size == 0) throw Error("batch size must be positive");
    config["shard"] = a.pass.shard;
    config["shard"]["batch_size"] = a.pass.batch_size;
  }
  auto st = RunStore::open_for_writing(run.dir(), config);

  attribution::AttributorOptions ao;
  for (const auto& f : a.features) ao.features.push_back(feature::parse_feature(f, a.cos_power));
  ao.layers = a.layers;
  ao.keep_s = a.pass.keep_s;
  ao.footprint.seed = a.model.seed;
  ao.verify = a.verify;
  ao.plan_cache = a.plan_cache;
  // A resumed pass goes on with the plan its first part used.
  if (auto stored = st->meta("plan"); !stored.is_null()) ao.plan = stored.get<attribution::AttributionPlan>();
  attribution::Attributor attributor(*m, ao);
  st->set_meta("plan", attributor.plan());

  nlohmann::json layout = nlohmann::json::array();
  for (size_t k = 0; k < a.features.size(); ++k) {
    nlohmann::json per_layer = nlohmann::json::array();
    for (size_t l = 0; l < a.layers.size(); ++l) {
      per_layer.push_back({{"layer", a.layers[l]}, {"footprint", attributor.footprint(k, l)}});
    }
    layout.push_back({{"feature", a.features[k]}, {"layers", per_layer}});
  }
  st->set_meta("layout", layout);

  run["params"] = a;
  run["layout"] = layout;
  static const char* const kSources[] = {"planned", "cache", "store"};
  run["plan"] = {{"source", kSources[static_cast<int>(attributor.plan_source())]},
                 {"verified", attributor.plan().verified}, {"input_crop", attributor.plan().crop},
                 {"layer_windows_margin", attributor.plan().suffix_margin}};
  run.write("running");
  PassReport rep;
  try {
    rep = run_attribution_pass(attributor, *ds, *st, a.pass);
  } catch (const Interrupted& e) {
    run.write("interrupted", e.what());
    throw;
  }
  run["results"] = {{"already_stored", rep.already_stored},
                    {"processed", rep.processed},
                    {"unreadable", rep.unreadable},
                    {"non_finite", rep.non_finite},
                    {"images_per_second", rep.seconds > 0 ? rep.processed / rep.seconds : 0.0},
                    {"rows", st->count_attributions()}};
  run.add_timing("pass", rep.seconds);
  run.add_output("store.sqlite", "per image: path, label; per image, feature and layer: fv, E, E+, E-, norms, "
                                 "phi maps (and channel vectors / S when kept)");
  run.write();
  spdlog::info("{} images attributed ({} already stored, {} unreadable) into {}", rep.processed,
               rep.already_stored, rep.unreadable, run.dir());
}

}  // namespace tension::store
