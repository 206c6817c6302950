#include "tension/analysis/selection.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <numeric>
#include <sstream>

#include "tension/core/error.h"
#include "tension/core/moments.h"
#include "tension/core/percentile.h"

namespace tension::analysis {

namespace {

constexpr double kFails = -std::numeric_limits<double>::infinity();

// Pooled statistics the conditions need, computed once per selection.
struct Pool {
  double fv_sd = 0;
  double d_low = 0, d_high = 0;       // percentiles of phi+ - phi-
  double pos_high = 0, neg_high = 0;  // percentiles of phi+ and of phi-
};

Pool pool(const std::vector<SelectionItem>& items, const std::vector<Rule>& rules, const SelectionOptions& opt) {
  Pool p;
  auto uses = [&](Rule r) { return std::find(rules.begin(), rules.end(), r) != rules.end(); };
  if (uses(Rule::Mti)) p.fv_sd = fv_sd(items);
  if (uses(Rule::Spatial) || uses(Rule::Channel)) {
    std::vector<float> d, pos, neg;
    for (const auto& it : items) {
      if (it.phi_pos.size() != it.phi_neg.size() || it.phi_pos.empty()) {
        throw Error("the spatial and channel rules need phi maps: the run's layer has no positions");
      }
      for (size_t i = 0; i < it.phi_pos.size(); ++i) {
        d.push_back(it.phi_pos[i] - it.phi_neg[i]);
        pos.push_back(it.phi_pos[i]);
        neg.push_back(it.phi_neg[i]);
      }
    }
    p.d_low = percentile(d, opt.spatial_low_pct);
    p.d_high = percentile(d, opt.spatial_high_pct);
    p.pos_high = percentile(pos, opt.channel_pct);
    p.neg_high = percentile(neg, opt.channel_pct);
  }
  return p;
}

// The rule's score for one item, or kFails when the item does not pass the rule's condition.
double score(Rule r, const SelectionItem& it, const Pool& p, const SelectionOptions& opt) {
  switch (r) {
    case Rule::Mei:
      return it.fv;
    case Rule::Mii:
      return -it.fv;
    case Rule::Zero:  // both E+ and E- near zero: the larger of the two, smallest first
      return -std::max(it.e_pos, it.e_neg);
    case Rule::Mti:
      if (!(it.fv > opt.mti_low_sd * p.fv_sd && it.fv < opt.mti_high_sd * p.fv_sd)) return kFails;
      return it.l1;
    case Rule::L1:
      return it.l1;
    case Rule::L2:
      return it.l2;
    case Rule::L21:
      return it.l21;
    case Rule::Spatial: {  // excitation and inhibition at different places: how far both extremes go past
      float lo = std::numeric_limits<float>::infinity(), hi = -lo;
      for (size_t i = 0; i < it.phi_pos.size(); ++i) {
        float d = it.phi_pos[i] - it.phi_neg[i];
        lo = std::min(lo, d);
        hi = std::max(hi, d);
      }
      // At or past the percentiles: where many positions tie at the pooled extreme (saturating units, quantised
      // images) the percentile is that extreme. Each side must also have its sign, so ties at 0 select nothing.
      if (!(lo <= p.d_low && hi >= p.d_high && lo < 0 && hi > 0)) return kFails;
      return std::min(hi - p.d_high, p.d_low - lo);
    }
    case Rule::Channel: {  // both at one place: the best position's weaker side, relative to its threshold
      double best = kFails;
      for (size_t i = 0; i < it.phi_pos.size(); ++i) {
        const float pos = it.phi_pos[i], neg = it.phi_neg[i];
        if (pos >= p.pos_high && neg >= p.neg_high && pos > 0 && neg > 0) {
          best = std::max(best, std::min(pos / std::max(p.pos_high, 1e-12), neg / std::max(p.neg_high, 1e-12)));
        }
      }
      return best;
    }
  }
  return kFails;
}

}  // namespace

double fv_sd(const std::vector<SelectionItem>& items) {
  std::vector<double> fv;
  fv.reserve(items.size());
  for (const auto& it : items) fv.push_back(it.fv);
  return sample_sd(fv);
}

std::string rule_name(Rule r) {
  switch (r) {
    case Rule::Mei: return "mei";
    case Rule::Mii: return "mii";
    case Rule::Zero: return "zero";
    case Rule::Spatial: return "spatial";
    case Rule::Channel: return "channel";
    case Rule::Mti: return "mti";
    case Rule::L1: return "l1";
    case Rule::L2: return "l2";
    case Rule::L21: return "l21";
  }
  return "?";
}

std::vector<Rule> parse_rules(const std::string& spec) {
  std::vector<Rule> rules;
  std::stringstream in(spec);
  std::string name;
  while (std::getline(in, name, '+')) {
    bool found = false;
    for (Rule r : {Rule::Mei, Rule::Mii, Rule::Zero, Rule::Spatial, Rule::Channel, Rule::Mti, Rule::L1, Rule::L2,
                   Rule::L21}) {
      if (rule_name(r) == name) {
        rules.push_back(r);
        found = true;
      }
    }
    if (!found) {
      throw Error("unknown selection rule '" + name + "' in '" + spec +
                  "': use mei, mii, zero, spatial, channel, mti, l1, l2 or l21, joined by '+' to combine");
    }
  }
  if (rules.empty()) throw Error("empty selection rule");
  return rules;
}

std::vector<Selected> select(const std::vector<SelectionItem>& items, const std::vector<Rule>& rules,
                             const SelectionOptions& opt) {
  if (rules.empty()) throw Error("no selection rule");
  if (opt.k < 1) throw Error("-k must be at least 1");
  if (items.empty()) return {};
  Pool p = pool(items, rules, opt);
  std::vector<Selected> passing;
  for (size_t i = 0; i < items.size(); ++i) {
    double s = 0;
    for (Rule r : rules) {
      s = score(r, items[i], p, opt);
      if (s == kFails) break;
    }
    if (s != kFails) passing.push_back({0, i, s});
  }
  // Ties keep dataset order, so a selection is reproducible.
  std::stable_sort(passing.begin(), passing.end(),
                   [](const Selected& a, const Selected& b) { return a.score > b.score; });
  if (static_cast<int64_t>(passing.size()) > opt.k) passing.resize(static_cast<size_t>(opt.k));
  for (size_t i = 0; i < passing.size(); ++i) passing[i].rank = static_cast<int64_t>(i) + 1;
  return passing;
}

std::string shortfall(const std::vector<SelectionItem>& items, const std::vector<Rule>& rules,
                      const SelectionOptions& opt, size_t selected) {
  if (static_cast<int64_t>(selected) >= opt.k) return "";
  if (items.size() < static_cast<size_t>(opt.k)) {
    return "the run holds " + std::to_string(items.size()) + " images, fewer than k = " + std::to_string(opt.k);
  }
  Pool p = pool(items, rules, opt);
  std::string why;
  for (Rule r : rules) {
    size_t pass = 0;
    for (const auto& it : items) pass += score(r, it, p, opt) != kFails;
    if (!why.empty()) why += "; ";
    why += std::to_string(pass) + " of " + std::to_string(items.size()) + " images pass " + rule_name(r);
    switch (r) {
      case Rule::Spatial:
        why += fmt::format(" (some position's phi+ - phi- <= P{} = {:.4g} and < 0, another's >= P{} = {:.4g} and > 0)",
                           opt.spatial_low_pct, p.d_low, opt.spatial_high_pct, p.d_high);
        break;
      case Rule::Channel:
        why += fmt::format(" (one position with phi+ >= P{0} = {1:.4g} and phi- >= P{0} = {2:.4g}, both > 0)",
                           opt.channel_pct, p.pos_high, p.neg_high);
        break;
      case Rule::Mti:
        why += fmt::format(" ({:.4g} < f_v < {:.4g}, {} and {} sd of f_v)", opt.mti_low_sd * p.fv_sd,
                           opt.mti_high_sd * p.fv_sd, opt.mti_low_sd, opt.mti_high_sd);
        break;
      default:
        break;
    }
  }
  if (rules.size() > 1) why += "; " + std::to_string(selected) + " pass all of them";
  return why;
}

}  // namespace tension::analysis
