#include "tension/toy/toy_outputs.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <fstream>

#include "tension/core/error.h"
#include "tension/core/npy.h"
#include "tension/toy/toy_figures.h"

namespace tension::toy {

namespace {

nlohmann::json tensor_json(const torch::Tensor& t) {
  auto d = t.to(torch::kFloat64).contiguous();
  if (d.dim() == 1) return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
  nlohmann::json rows = nlohmann::json::array();
  for (int64_t i = 0; i < d.size(0); ++i) rows.push_back(tensor_json(d[i]));
  return rows;
}

nlohmann::json config_json(const StudyConfig& c, const std::string& preset) {
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

std::string write_toy_outputs(const ToyStudy& study, const std::string& preset, RunManifest& run) {
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
  std::vector<MatrixPanel> panels;
  std::vector<LossSeries> series;
  std::vector<torch::Tensor> domain;
  for (const auto& w : study.widths) {
    const auto& tc = study.config.train;
    for (size_t r = 0; r < w.heldout_loss.size(); ++r) {
      const int64_t restart = tc.first_restart + static_cast<int64_t>(r);
      restarts << w.hidden << "," << restart << "," << init_seed(tc.seed, restart) << ","
               << fmt::format("{:.9g},{:.9g}", w.heldout_loss[r], w.final_loss[r]) << ","
               << (static_cast<int64_t>(r) == w.best) << "\n";
    }
    const auto& a = w.attribution;
    auto [pos_n, neg_n] = normalise_columns(a);
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
                      {"init_seed", init_seed(tc.seed, restart)},
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
  const std::string what = task.kind == TaskKind::Abs ? "abs" : "XOR";
  write_attribution_figure(run.path(p + "attribution"),
                                fmt::format("{} (Fig. 7): E+/E- of f_j at h for input i, per column", what),
                                panels);
  write_domain_loss_figure(run.path(p + "domain_loss"),
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

void toy_run(const ToyRunOptions& a, RunManifest& run) {
  StudyConfig c = a.study;
  auto& t = c.train;
  t.task = ToyTask::named(a.task, parse_preset(a.preset));
  if (a.p_on) t.task.p_on = *a.p_on;
  if (a.unit_values && t.task.kind != TaskKind::Abs) throw Error("--unit-values applies to the abs task");
  t.task.unit_values = a.unit_values;
  if (a.hidden_bias != "auto" && a.hidden_bias != "on" && a.hidden_bias != "off") {
    throw Error("--hidden-bias takes auto, on or off, got '" + a.hidden_bias + "'");
  }
  t.hidden_bias = a.hidden_bias == "auto" ? t.task.code_hidden_bias() : a.hidden_bias == "on";
  auto study = run_toy_study(c);
  for (const auto& w : study.widths) {
    run.add_timing(fmt::format("{}_m{}_train", a.task, w.hidden), w.train_seconds);
    run.add_timing(fmt::format("{}_m{}_evaluate", a.task, w.hidden), w.eval_seconds);
  }
  write_toy_outputs(study, a.preset, run);
  run.write();
  spdlog::info("toy {}: {}", a.task, run.path("run.json"));
}

}  // namespace tension::toy
