// tension merge RUN SHARD_RUN...: the parts of a sharded pass joined into one run store.
#include "tension/cli/common.h"
#include "tension/core/manifest.h"
#include "tension/store/merge_run.h"

namespace tension::cli {

void register_merge(CLI::App& app) {
  static store::MergeOptions a;
  static std::string out;
  auto* cmd = app.add_subcommand("merge",
                                 "join the parts of a pass made with `tension attribute --shard I/N` into one run "
                                 "store, refusing parts of another configuration, gaps and overlaps");
  cmd->add_option("run", out, "the merged run folder (store.sqlite, run.json)")->required();
  cmd->add_option("shards", a.shards, "the shards' run folders")->required();
  cmd->add_flag("--report", a.report,
                "merge even when images are in no shard or in two, and list them in run.json");
  cmd->callback([] {
    RunManifest run(out, "merge", global().argv);
    store::merge_run(a, run);
  });
}

}  // namespace tension::cli
