// tension trials analyze --db FILE [--bundle BUNDLE] --out DIR: accuracy per layer and question with intervals over
// participants, the first layer against the later ones, and Fig 10 (paper App B).
#include "tension/cli/common.h"
#include "tension/core/manifest.h"
#include "tension/trials/analysis.h"

namespace tension::cli {

void register_trials_analyze(CLI::App* trials) {
  static trials::TrialsAnalyzeOptions a;
  static std::string out;
  auto* cmd = trials->add_subcommand("analyze",
                                     "analyse the answers: accuracy per layer for Q1 (MEI) and Q2 (MII) "
                                     "with bootstrap intervals over participants, the paired permutation "
                                     "test of the first layer against each later one, Fig 10");
  cmd->add_option("--db", a.db, "the response database")->required();
  cmd->add_option("--bundle", a.bundle,
                  "the trial bundle (its layer order; the answers are checked against it); "
                  "without it the layers are ordered by their first trial");
  cmd->add_option("--resamples", a.stats.resamples, "bootstrap resamples per interval")->capture_default_str();
  cmd->add_option("--level", a.stats.level, "confidence level of the intervals")->capture_default_str();
  cmd->add_option("--permutations", a.stats.permutations,
                  "Monte Carlo sign flips of the test (beyond --exact-max "
                  "participants)")
      ->capture_default_str();
  cmd->add_option("--exact-max", a.stats.exact_max, "enumerate every sign flip up to this many participants")
      ->capture_default_str();
  cmd->add_option("--seed", a.stats.seed, "seed of the bootstrap and the Monte Carlo test")->capture_default_str();
  cmd->add_option("--out,-o", out, "output folder")->required();
  cmd->callback([] {
    RunManifest run(out, "trials analyze", global().argv);
    trials::trials_analyze_run(a, run);
  });
}

}  // namespace tension::cli
