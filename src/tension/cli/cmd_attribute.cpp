// tension attribute MODEL DATA --feature F --layer L --out RUN: one resumable dataset pass into a run store.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "tension/attribution/attributor.h"
#include "tension/cli/common.h"
#include "tension/core/error.h"
#include "tension/core/manifest.h"
#include "tension/data/dataset.h"
#include "tension/store/attribution_pass.h"

namespace tension::cli {

void attribute_run(const AttributeArgs& a) {
  auto m = load_model(a.model);
  auto ds = data::open_dataset(a.data);
  attribution::AttributorOptions ao;
  for (const auto& f : a.features) ao.features.push_back(feature::parse_feature(f, a.cos_power));
  ao.layers = a.layers;
  ao.keep_s = a.pass.keep_s;
  ao.footprint.seed = a.model.seed;
  attribution::Attributor attributor(*m, ao);

  nlohmann::json config = {
      {"model", model_args_json(a.model)},
      {"model_weights", m->weights_id()},
      {"data", {{"spec", a.data}, {"listing_sha256", data::listing_hash(*ds)}, {"limit", a.pass.limit}}},
      {"features", a.features},
      {"cos_power", a.cos_power},
      {"layers", a.layers},
      {"keep_channels", a.pass.keep_channels},
      {"keep_s", a.pass.keep_s},
      {"seed", a.model.seed}};
  auto st = store::RunStore::open_for_writing(a.out, config);
  nlohmann::json layout = nlohmann::json::array();
  for (size_t k = 0; k < a.features.size(); ++k) {
    nlohmann::json per_layer = nlohmann::json::array();
    for (size_t l = 0; l < a.layers.size(); ++l) {
      const auto& b = attributor.footprint(k, l);
      per_layer.push_back({{"layer", a.layers[l]}, {"footprint", {b.top, b.left, b.bottom, b.right}}});
    }
    layout.push_back({{"feature", a.features[k]}, {"layers", per_layer}});
  }
  st->set_meta("layout", layout);

  RunManifest run(a.out, "attribute", global().argv);
  run["params"] = config;
  run["params"]["batch_size"] = a.pass.batch_size;
  run["layout"] = layout;
  run.write("running");
  auto rep = store::run_attribution_pass(attributor, *ds, *st, a.pass);
  run["results"] = {{"already_stored", rep.already_stored},
                    {"processed", rep.processed},
                    {"unreadable", rep.unreadable},
                    {"images_per_second", rep.seconds > 0 ? rep.processed / rep.seconds : 0.0},
                    {"rows", st->count_attributions()}};
  run.add_timing("pass", rep.seconds);
  run.add_output("store.sqlite", "per image: path, label; per image, feature and layer: fv, E, E+, E-, norms, "
                                 "phi maps (and channel vectors / S when kept)");
  run.write();
  spdlog::info("{} images attributed ({} already stored, {} unreadable) into {}", rep.processed,
               rep.already_stored, rep.unreadable, a.out);
}

void register_attribute(CLI::App& app) {
  static AttributeArgs a;
  auto* cmd = app.add_subcommand("attribute",
                                 "attribute features to earlier layers over a dataset (S = grad (.) h, E, E+, "
                                 "E-, phi maps, norms) into a resumable run store");
  add_model_options(cmd, a.model);
  cmd->add_option("data", a.data, "dataset")->required();
  cmd->add_option("--feature,-f", a.features, "LAYER:UNIT[@ROW,COL] or LAYER:@FILE.npy#ROW (repeatable)")
      ->required();
  cmd->add_option("--layer,-l", a.layers, "attribution layer (a tap, or 'input' for pixels; repeatable)")
      ->required();
  cmd->add_option("--out,-o", a.out, "run folder (store.sqlite, run.json); resumed when it exists")->required();
  cmd->add_option("--cos-power", a.cos_power, "direction features: dot*cos^p readout (0 = dot)")
      ->capture_default_str();
  cmd->add_option("--batch-size", a.pass.batch_size)->capture_default_str();
  cmd->add_option("--decode-threads", a.pass.decode_threads)->capture_default_str();
  cmd->add_option("--limit", a.pass.limit, "only the first N images (0 = all)")->capture_default_str();
  cmd->add_flag("--keep-channels", a.pass.keep_channels, "store S summed over positions (for atlas and UMAP)");
  cmd->add_flag("--keep-s", a.pass.keep_s, "store the full S cropped to each feature's footprint");
  cmd->callback([] { attribute_run(a); });
}

}  // namespace tension::cli
