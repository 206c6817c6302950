// tension attribute MODEL DATA --feature F --layer L --out RUN: one resumable dataset pass into a run store.
#include "tension/cli/common.h"
#include "tension/core/manifest.h"
#include "tension/store/attribute_run.h"

namespace tension::cli {

void register_attribute(CLI::App& app) {
  static store::AttributeOptions a;
  static std::string out, shard;
  auto* cmd = app.add_subcommand("attribute",
                                 "attribute features to earlier layers over a dataset (S = grad (.) h, E, E+, "
                                 "E-, phi maps, norms) into a resumable run store");
  add_model_options(cmd, a.model);
  cmd->add_option("data", a.data, "dataset")->required();
  cmd->add_option("--feature,-f", a.features, "LAYER:UNIT[@ROW,COL] or LAYER:@FILE.npy#ROW (repeatable)")
      ->required();
  cmd->add_option("--layer,-l", a.layers, "attribution layer (a tap, or 'input' for pixels; repeatable)")
      ->required();
  cmd->add_option("--out,-o", out, "run folder (store.sqlite, run.json); resumed when it exists")->required();
  cmd->add_option("--cos-power", a.cos_power, "direction features: dot*cos^p readout (0 = dot)")
      ->capture_default_str();
  cmd->add_option("--batch-size", a.pass.batch_size)->capture_default_str();
  cmd->add_option("--decode-threads", a.pass.decode_threads)->capture_default_str();
  cmd->add_option("--limit", a.pass.limit, "only the first N images (0 = all)")->capture_default_str();
  cmd->add_flag("--keep-channels", a.pass.keep_channels, "store S summed over positions (for atlas and UMAP)");
  cmd->add_flag("--keep-s", a.pass.keep_s, "store the full S cropped to each feature's footprint");
  cmd->add_flag("!--no-verify", a.verify,
                "use the input crop and layer windows without checking them against the plain computation "
                "(recorded in run.json)");
  cmd->add_option("--plan-cache", a.plan_cache,
                  "folder of cached plans ('' for none; default $TENSION_CACHE_DIR, $XDG_CACHE_HOME/tension or "
                  "~/.cache/tension)")
      ->capture_default_str();
  cmd->add_option("--shard", shard,
                  "I/N: attribute only part I of N (every N-th batch, from batch I) into this run folder; "
                  "`tension merge` joins the parts (for clusters without MPI)");
  cmd->callback([] {
    a.model.device = global().device;
    if (!shard.empty()) a.pass.shard = store::parse_shard(shard);
    RunManifest run(out, "attribute", global().argv);
    store::attribute_run(a, run);
  });
}

}  // namespace tension::cli
