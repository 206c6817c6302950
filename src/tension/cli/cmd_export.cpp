// tension export RUN --csv FILE [--npy DIR]: a run store as a table for pandas or a spreadsheet.
#include <spdlog/spdlog.h>

#include "tension/cli/common.h"
#include "tension/core/error.h"
#include "tension/store/export.h"

namespace tension::cli {

void register_export(CLI::App& app) {
  struct Args {
    std::string run, csv, npy;
  };
  static Args a;
  auto* cmd = app.add_subcommand("export", "export a run store as CSV (one row per image, feature, layer) or .npy");
  cmd->add_option("run", a.run, "run folder written by `tension attribute`")->required();
  cmd->add_option("--csv", a.csv, "CSV file to write");
  cmd->add_option("--npy", a.npy, "folder for .npy matrices");
  cmd->callback([] {
    if (a.csv.empty() && a.npy.empty()) throw Error("export: give --csv FILE and/or --npy DIR");
    auto st = store::RunStore::open(a.run);
    if (!a.csv.empty()) spdlog::info("{} rows written to {}", store::export_csv(*st, a.csv), a.csv);
    if (!a.npy.empty()) spdlog::info("{} files written to {}", store::export_npy(*st, a.npy).size(), a.npy);
  });
}

}  // namespace tension::cli
