// tension toy abs|xor: toy models of superposition (paper §6, App. G): restarts trained together, the best
// per width, its losses over the exhaustive domain (Fig. 15) and its attribution matrix (Fig. 7).
#include "tension/cli/common.h"
#include "tension/core/manifest.h"
#include "tension/toy/toy_outputs.h"

namespace tension::cli {

void register_toy(CLI::App& app) {
  static toy::ToyRunOptions a;
  static std::string out;
  auto& t = a.study.train;
  auto* cmd = app.add_subcommand("toy", "toy models of superposition, abs and XOR (paper §6, App. G; Fig. 7, 15)");
  cmd->add_option("task", a.task, "abs or xor")->required()->check(CLI::IsMember({"abs", "xor"}));
  cmd->add_option("--widths", a.study.widths, "hidden widths m")->delimiter(',')->capture_default_str();
  cmd->add_option("--restarts", t.restarts, "random restarts per width")->capture_default_str();
  cmd->add_option("--steps", t.steps, "Adam steps")->capture_default_str();
  cmd->add_option("--batch", t.batch, "batch size (the paper code's abs model: 400)")->capture_default_str();
  cmd->add_option("--lr", t.adam.lr, "Adam learning rate")->capture_default_str();
  cmd->add_option("--seed", t.seed, "seed of the initialisations and data streams")->capture_default_str();
  cmd->add_option("--heldout-rows", a.study.heldout_rows, "rows of the held-out set that picks the best restart")
      ->capture_default_str();
  cmd->add_option("--preset", a.preset,
                  "paper: the settings that reproduce the paper's figures (abs p_on 0.1, xor 0.05); code: the "
                  "released code's (abs p_on 0.01, xor 0.05)")
      ->check(CLI::IsMember({"paper", "code"}))
      ->capture_default_str();
  cmd->add_option("--p-on", a.p_on, "probability that a feature is on (default: the preset's)");
  cmd->add_option("--init-scale", t.init_scale, "multiplies nn.Linear's initialisation bounds")->capture_default_str();
  cmd->add_flag("--unit-values", a.unit_values, "abs: on features U[0,1) as the paper's text says (default: U(-1,1), the code)");
  cmd->add_option("--hidden-bias", a.hidden_bias, "b1: auto (the code: none for abs, trained for xor), on, off")
      ->check(CLI::IsMember({"auto", "on", "off"}))
      ->capture_default_str();
  cmd->add_option("--chunk", t.chunk, "steps drawn at once and run by every restart")->capture_default_str();
  cmd->add_option("--out,-o", out, "output folder (default out/toy-TASK)");
  cmd->callback([] {
    RunManifest run(out.empty() ? "out/toy-" + a.task : out, "toy", global().argv);
    toy::toy_run(a, run);
  });
}

}  // namespace tension::cli
