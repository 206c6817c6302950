#include "tension/trials/simulate.h"

#include <fmt/format.h>

#include <algorithm>

#include "tension/core/error.h"
#include "tension/core/splitmix.h"
#include "tension/trials/experiment.h"

namespace tension::trials {

namespace {

std::vector<double> per_layer(const std::vector<double>& a, const Bundle& b, const char* name) {
  if (a.size() != 1 && a.size() != b.layers.size()) {
    throw Error(fmt::format("--{}: {} values for the bundle's {} layers (give one per layer, or one for all)", name,
                            a.size(), b.layers.size()));
  }
  for (double v : a) {
    if (!(v >= 0 && v <= 1)) throw Error(fmt::format("--{}: accuracy {} is outside [0, 1]", name, v));
  }
  return a.size() == 1 ? std::vector<double>(b.layers.size(), a[0]) : a;
}

}  // namespace

int64_t simulate(const SimulateOptions& opt) {
  if (opt.participants < 0) throw Error(fmt::format("--participants {} is negative", opt.participants));
  ExperimentOptions eo;
  eo.durable = false;
  Experiment ex(opt.bundle, opt.db, eo);
  const Bundle& b = ex.bundle();
  const auto a_mei = per_layer(opt.accuracy_mei, b, "accuracy-mei");
  const auto a_mii = per_layer(opt.accuracy_mii, b, "accuracy-mii");
  auto layer_index = [&](const std::string& layer) {
    return static_cast<size_t>(
        std::find_if(b.layers.begin(), b.layers.end(), [&](const Layer& l) { return l.name == layer; }) -
        b.layers.begin());
  };
  uint64_t rng = opt.seed;
  int64_t given = 0;
  for (int64_t i = 1; i <= opt.participants; ++i) {
    Identity who;
    who.participant = fmt::format("{}-{:04d}", opt.prefix, i);
    State s = ex.join(who);
    if (s.screen != Screen::consent) {
      throw Error(
          fmt::format("{}: already holds participant {}; use another --db or --prefix", opt.db, who.participant));
    }
    s = ex.start(who.participant);
    int64_t q1 = -1;
    while (s.screen == Screen::trial) {
      const auto& v = s.trial;
      const Trial& t = b.trials[static_cast<size_t>(v.id)];
      const size_t l = layer_index(t.layer);
      std::vector<int64_t> wrong;
      int64_t choice = 0;
      if (v.question == Question::mei) {
        for (int64_t c = 0; c < 9; ++c) {
          if (c != t.mei && c != t.mii) wrong.push_back(c);
        }
        choice = uniform01(rng) < a_mei[l] ? t.mei : wrong[uniform_below(rng, wrong.size())];
        q1 = choice;
      } else {
        for (int64_t c = 0; c < 9; ++c) {
          if (c != t.mii && c != q1) wrong.push_back(c);
        }
        choice = uniform01(rng) < a_mii[l] ? t.mii : wrong[uniform_below(rng, wrong.size())];
      }
      const int64_t rt_ms = 800 + static_cast<int64_t>(uniform_below(rng, 4200));
      s = ex.answer(who.participant, v.id, v.question, choice, rt_ms).next;
      ++given;
    }
  }
  return given;
}

}  // namespace tension::trials
