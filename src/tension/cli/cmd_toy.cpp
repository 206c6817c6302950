// tension toy abs|xor: toy models of superposition (paper §6, App. G): restarts trained together, the best
// per width, its losses over the exhaustive domain (Fig. 15) and its attribution matrix (Fig. 7).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <fstream>

#include "tension/cli/common.h"
#include "tension/core/error.h"
#include "tension/core/manifest.h"
#include "tension/core/npy.h"
#include "tension/toy/toy_figures.h"

namespace tension::cli {

namespace {

nlohmann::json tensor_json(const torch::Tensor& t) {
  auto d = t.to(torch::kFloat64).contiguous();
  if (d.dim() == 1) return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
  nlohmann::json rows = nlohmann::json::array();
  for (int64_t i = 0; i < d.size(0); ++i) rows.push_back(tensor_json(d[i]));
  return rows;
}

nlohmann::json config_json(const toy::StudyConfig& c, const std::string& preset) {
  const auto& t = c.train;
  return {{"task", t.task.name()},          {"preset", preset},
          {"features", t.task.features},    {"init_scale", t.init_scale},
          {"p_on", t.task.p_on},            {"values", t.task.unit_values ? "U[0,1)" : "U(-1,1)"},
          {"importance_decay", t.task.importance_decay},
          {"widths", c.widths},             {"hidden_bias", t.hidden_bias},
          {"restarts", t.restarts},         {"first_restart", t.first_restart},
          {"steps", t.steps},               {"batch", t.batch},
          {"lr", t.adam.lr},                {"betas", {t.adam.beta1, t.adam.beta2}},
          {"eps", t.adam.eps},              {"seed", t.seed},
          {"heldout_rows", c.heldout_rows}, {"chunk", t.chunk}};
}

}  // namespace

std::string write_toy_outputs(const toy::ToyStudy& study, const std::string& preset, RunManifest& run) {
  const auto& task = study.config.train.task;
  // The default preset's outputs carry the task's name alone; another preset's add its name (abs_code_...).
  const std::string key = preset == "paper" ? task.name() : task.name() + "_" + preset;
  const std::string p = key + "_";
  std::ofstream restarts(run.path(p + "restarts.csv"));
  restarts << "m,restart,init_seed,heldout_loss,final_train_loss,kept\n";
  std::ofstream attr(run.path(p + "attribution.csv"));
  attr << "m,probe,probe_feature,output,e_pos,e_neg,e_pos_column_normalised,e_neg_column_normalised,f_pre\n";
  std::ofstream boxes(run.path(p + "domain_loss.csv"));
  boxes << "m,active_features,inputs,min,q1,median,q3,max,mean,whisker_low,whisker_high,outliers\n";
  nlohmann::json widths = nlohmann::json::array(), models = nlohmann::json::array();
  std::vector<toy::MatrixPanel> panels;
  std::vector<toy::LossSeries> series;
  std::vector<torch::Tensor> domain;
  for (const auto& w : study.widths) {
    const auto& tc = study.config.train;
    for (size_t r = 0; r < w.heldout_loss.size(); ++r) {
      const int64_t restart = tc.first_restart + static_cast<int64_t>(r);
      restarts << w.hidden << "," << restart << "," << toy::init_seed(tc.seed, restart) << ","
               << fmt::format("{:.9g},{:.9g}", w.heldout_loss[r], w.final_loss[r]) << ","
               << (static_cast<int64_t>(r) == w.best) << "\n";
    }
    const auto& a = w.attribution;
    auto [pos_n, neg_n] = toy::normalise_columns(a);
    for (size_t i = 0; i < a.probes.names.size(); ++i) {
      for (int64_t j = 0; j < a.e_pos.size(1); ++j) {
        const auto ii = static_cast<int64_t>(i);
        attr << w.hidden << "," << a.probes.names[i] << "," << a.probes.feature[i] + 1 << "," << j + 1 << ","
             << fmt::format("{:.9g},{:.9g},{:.6g},{:.6g},{:.9g}", a.e_pos[ii][j].item<double>(),
                            a.e_neg[ii][j].item<double>(), pos_n[ii][j].item<double>(),
                            neg_n[ii][j].item<double>(), a.f_pre[ii][j].item<double>())
             << "\n";
      }
    }
    for (const auto& b : w.boxes) {
      boxes << w.hidden << "," << b.active << "," << b.count << ","
            << fmt::format("{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g}", b.min, b.q1, b.median, b.q3,
                           b.max, b.mean, b.whisker_low, b.whisker_high)
            << "," << b.outliers.size() << "\n";
    }
    const int64_t restart = tc.first_restart + w.best;
    models.push_back({{"m", w.hidden},
                      {"restart", restart},
                      {"init_seed", toy::init_seed(tc.seed, restart)},
                      {"heldout_loss", w.heldout_loss[w.best]},
                      {"W1", tensor_json(w.model.w1)},
                      {"b1", tensor_json(w.model.b1)},
                      {"W2", tensor_json(w.model.w2)},
                      {"b2", tensor_json(w.model.b2)}});
    widths.push_back({{"m", w.hidden},
                      {"best_restart", restart},
                      {"heldout_loss", w.heldout_loss[w.best]},
                      {"domain_loss_max", w.domain.loss.max().item<double>()},
                      {"domain_loss_mean", w.domain.loss.mean().item<double>()},
                      {"diagonal_mass", w.mass.diagonal},
                      {"off_diagonal_mass", w.mass.off_diagonal},
                      {"off_diagonal_ratio", w.mass.ratio},
                      {"diagonal_tension", w.tension},
                      {"train_seconds", w.train_seconds},
                      {"eval_seconds", w.eval_seconds}});
    const std::string name = "m = " + std::to_string(w.hidden);
    panels.push_back({name, w.attribution});
    series.push_back({name, w.boxes});
    domain.push_back(w.domain.loss);
  }
  std::ofstream(run.path(p + "models.json")) << models.dump(1) << "\n";
  write_npy(run.path(p + "domain_losses.npy"), torch::stack(domain));
  write_npy(run.path(p + "domain_active.npy"), study.widths.front().domain.active);
  const std::string what = task.kind == toy::TaskKind::Abs ? "abs" : "XOR";
  toy::write_attribution_figure(run.path(p + "attribution"),
                                fmt::format("{} (Fig. 7): E+/E- of f_j at h for input i, per column", what),
                                panels);
  toy::write_domain_loss_figure(run.path(p + "domain_loss"),
                                fmt::format("{}: loss of every input of the domain, by active features (Fig. 15)", what),
                                series);
  nlohmann::json claims = nlohmann::json::array();
  for (const auto& c : study.claims) claims.push_back({{"claim", c.text}, {"measured", c.measured}, {"holds", c.holds}});
  run["params"]["toy"][key] = config_json(study.config, preset);
  run["results"]["toy"][key] = {{"widths", widths}, {"claims", claims}};
  run.add_output(p + "restarts.csv", "every restart: held-out loss, final training loss, which one was kept");
  run.add_output(p + "models.json", "the kept model per width: W1, b1, W2, b2");
  run.add_output(p + "attribution.csv", "E+/E- per width, probe input and output, raw and column-normalised");
  run.add_output(p + "domain_loss.csv", "box-plot numbers of the domain losses per width and active features");
  run.add_output(p + "domain_losses.npy", "float64 [widths, inputs]: loss of every domain input, widths in order");
  run.add_output(p + "domain_active.npy", "int64 [inputs]: active features of every domain input");
  run.add_output(p + "attribution.png", "Fig. 7 for " + what + " (also .svg, .gp, .dat)");
  run.add_output(p + "domain_loss.png", "Fig. 15 for " + what + " (also .svg, .gp, .dat)");
  return key;
}

void register_toy(CLI::App& app) {
  struct Args {
    std::string task, preset = "paper";
    toy::StudyConfig study;
    std::optional<double> p_on;
    bool unit_values = false;
    std::string hidden_bias = "auto";
    std::string out;
  };
  static Args a;
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
  cmd->add_option("--out,-o", a.out, "output folder (default out/toy-TASK)");
  cmd->callback([] {
    auto& t = a.study.train;
    t.task = toy::ToyTask::named(a.task, toy::parse_preset(a.preset));
    if (a.p_on) t.task.p_on = *a.p_on;
    if (a.unit_values && t.task.kind != toy::TaskKind::Abs) throw Error("--unit-values applies to the abs task");
    t.task.unit_values = a.unit_values;
    t.hidden_bias = a.hidden_bias == "auto" ? t.task.kind == toy::TaskKind::Xor : a.hidden_bias == "on";
    RunManifest run(a.out.empty() ? "out/toy-" + a.task : a.out, "toy", global().argv);
    auto study = toy::run_toy_study(a.study);
    for (const auto& w : study.widths) {
      run.add_timing(fmt::format("{}_m{}_train", a.task, w.hidden), w.train_seconds);
      run.add_timing(fmt::format("{}_m{}_evaluate", a.task, w.hidden), w.eval_seconds);
    }
    write_toy_outputs(study, a.preset, run);
    run.write();
    spdlog::info("toy {}: {}", a.task, run.path("run.json"));
  });
}

}  // namespace tension::cli
