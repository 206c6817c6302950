// tension trials build|serve|export|simulate|analyze: the human MEI -> MII experiment (paper App B, Fig 9, 10).
#include "tension/cli/common.h"

namespace tension::cli {

void register_trials(CLI::App& app) {
  auto* cmd = app.add_subcommand("trials", "the human MEI -> MII experiment (paper App B): build trials, serve them "
                                           "to participants, export and analyse the answers");
  cmd->require_subcommand(1);
  register_trials_build(cmd);
  register_trials_serve(cmd);
  register_trials_analyze(cmd);
}

}  // namespace tension::cli
