// tension trials serve|export|simulate: run the human experiment for participants, export their answers, or add
// simulated participants with known accuracies (paper App B).
#include <spdlog/spdlog.h>

#include "tension/cli/common.h"
#include "tension/trials/responses.h"
#include "tension/trials/server.h"
#include "tension/trials/simulate.h"

namespace tension::cli {

void register_trials_serve(CLI::App* trials) {
  static trials::ServeOptions s;
  auto* serve = trials->add_subcommand("serve",
                                       "serve a trial bundle to participants (the page, the crops and the "
                                       "answers' API; answers go to --db)");
  serve->add_option("bundle", s.bundle, "trial bundle folder (written by `tension trials build`)")->required();
  serve->add_option("--db", s.db, "response database (SQLite; created when missing, continued otherwise)")->required();
  serve->add_option("--host", s.host, "address to listen on (keep 127.0.0.1 behind a TLS reverse proxy)")
      ->capture_default_str();
  serve->add_option("--port,-p", s.port, "port (0: any free port)")->capture_default_str();
  serve->add_option("--completion-url", s.completion_url, "linked from the completion screen (e.g. Prolific's)");
  serve->add_option("--completion-code", s.completion_code, "shown on the completion screen");
  serve->callback([] { trials::serve(s); });

  static std::string db, csv;
  auto* exp = trials->add_subcommand("export", "the answers of a response database as CSV, one row per answer");
  exp->add_option("--db", db, "response database")->required();
  exp->add_option("--csv", csv, "CSV file to write")->required();
  exp->callback([] { spdlog::info("{} answers written to {}", trials::export_csv(db, csv), csv); });

  static trials::SimulateOptions m;
  auto* sim = trials->add_subcommand("simulate",
                                     "add simulated participants with known accuracies to a response "
                                     "database, through the server's code path");
  sim->add_option("--bundle", m.bundle, "trial bundle folder")->required();
  sim->add_option("--db", m.db, "response database (created when missing)")->required();
  sim->add_option("--participants,-n", m.participants, "simulated participants")->capture_default_str();
  sim->add_option("--accuracy-mei", m.accuracy_mei, "Q1 accuracy per layer (bundle order), or one for all")
      ->delimiter(',')
      ->capture_default_str();
  sim->add_option("--accuracy-mii", m.accuracy_mii, "Q2 accuracy per layer (bundle order), or one for all")
      ->delimiter(',')
      ->capture_default_str();
  sim->add_option("--seed", m.seed, "seed of the simulated answers")->capture_default_str();
  sim->add_option("--prefix", m.prefix, "participant ids are PREFIX-0001, ...")->capture_default_str();
  sim->callback([] {
    const int64_t n = trials::simulate(m);
    spdlog::info("{} participants, {} answers written to {}", m.participants, n, m.db);
  });
}

}  // namespace tension::cli
