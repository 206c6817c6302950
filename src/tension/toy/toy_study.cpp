#include "tension/toy/toy_study.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "tension/core/error.h"
#include "tension/core/stopwatch.h"

namespace tension::toy {

ToyStudy run_toy_study(const StudyConfig& config) {
  if (config.widths.empty()) throw Error("no toy widths given");
  ToyStudy study;
  study.config = config;
  const auto& task = config.train.task;
  const SparseBatch heldout = heldout_set(task, config.heldout_rows, heldout_seed(config.train.seed));
  spdlog::info("{}: held-out set of {} rows ({} distinct)", task.name(), heldout.rows, heldout.distinct());
  for (int m : config.widths) {
    TrainConfig tc = config.train;
    tc.hidden = m;
    WidthResult w;
    w.hidden = m;
    auto trained = train_restarts(tc);
    w.train_seconds = trained.train_seconds;
    w.final_loss = trained.final_loss;
    const Stopwatch t0;
    w.heldout_loss = heldout_losses(tc, trained, heldout);
    w.best = best_restart(w.heldout_loss);
    w.model = trained.model(tc, w.best);
    w.domain = domain_losses(task, w.model);
    w.boxes = loss_boxes(w.domain);
    w.attribution = attribution_matrix(task, w.model);
    w.mass = diagonal_mass(w.attribution);
    w.tension = diagonal_tension(w.attribution);
    w.eval_seconds = t0.seconds();
    spdlog::info("{} m={}: best restart {} of {}, held-out loss {:.3g}; domain loss max {:.3g}; off-diagonal "
                 "attribution {:.2f}% of the diagonal",
                 task.name(), m, tc.first_restart + w.best, tc.restarts, w.heldout_loss[w.best],
                 w.domain.loss.max().item<double>(), 100 * w.mass.ratio);
    study.widths.push_back(std::move(w));
  }
  study.claims = check_claims(study);
  for (const auto& c : study.claims) {
    spdlog::info("{} claim: {} -- measured: {} -> {}", task.name(), c.text, c.measured, c.holds ? "holds" : "does NOT hold");
  }
  return study;
}

std::vector<Claim> check_claims(const ToyStudy& study) {
  std::vector<Claim> out;
  const auto& ws = study.widths;
  if (ws.empty()) return out;
  const auto widest = std::max_element(ws.begin(), ws.end(), [](auto& a, auto& b) { return a.hidden < b.hidden; });
  const bool disentangled = widest->hidden >= 2 * study.config.train.task.features;
  const std::string m = "m = " + std::to_string(widest->hidden);
  if (disentangled) {
    const double max_loss = widest->domain.loss.max().item<double>();
    out.push_back({m + " is perfect on the exhaustive domain (every input's loss < " + fmt::format("{:g}", kPerfectLoss) + ")",
                   fmt::format("max loss {:.3g}, mean {:.3g}", max_loss, widest->domain.loss.mean().item<double>()),
                   max_loss < kPerfectLoss});
    out.push_back({m + "'s attribution matrix is diagonal (off-diagonal E+ + E- < " +
                       fmt::format("{:g}", 100 * kDiagonalRatio) + "% of the diagonal)",
                   fmt::format("{:.3f}%", 100 * widest->mass.ratio), widest->mass.ratio < kDiagonalRatio});
    if (study.config.train.task.kind == TaskKind::Xor) {
      const auto& a = widest->attribution;
      double lo = 1;
      std::string each;
      for (size_t i = 0; i < a.probes.names.size(); ++i) {
        if (a.probes.names[i].rfind("[1,1]", 0) != 0) continue;
        lo = std::min(lo, widest->tension[i]);
        each += fmt::format("{}{:.2f}", each.empty() ? "" : ", ", widest->tension[i]);
      }
      out.push_back({m + ": [1,1]_i shows both E+ and E- on f_i (min/max > " + fmt::format("{:g}", kBothRatio) + ")",
                     "min(E+,E-)/max(E+,E-) per i: " + each, lo > kBothRatio});
    }
  }
  std::vector<const WidthResult*> by_width;
  for (const auto& w : ws) by_width.push_back(&w);
  std::sort(by_width.begin(), by_width.end(), [](auto* a, auto* b) { return a->hidden > b->hidden; });
  bool grows = true;
  std::string trend;
  for (size_t k = 0; k < by_width.size(); ++k) {
    trend += fmt::format("{}m={}: {:.2f}%", k ? ", " : "", by_width[k]->hidden, 100 * by_width[k]->mass.ratio);
    if (k && by_width[k]->mass.ratio < by_width[k - 1]->mass.ratio) grows = false;
  }
  if (by_width.size() > 1) out.push_back({"off-diagonal attribution mass grows as m shrinks", trend, grows});
  return out;
}

}  // namespace tension::toy
