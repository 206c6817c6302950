#include "tension/analysis/selection.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <sstream>

#include "tension/core/error.h"
#include "tension/core/moments.h"
#include "tension/core/percentile.h"

namespace tension::analysis {

namespace {

constexpr double kFails = -std::numeric_limits<double>::infinity();

bool uses(const std::vector<Rule>& rules, Rule r) { return std::find(rules.begin(), rules.end(), r) != rules.end(); }

}  // namespace

bool needs_maps(const std::vector<Rule>& rules) { return uses(rules, Rule::Spatial) || uses(rules, Rule::Channel); }

bool needs_pool(const std::vector<Rule>& rules) { return uses(rules, Rule::Mti) || needs_maps(rules); }

PooledStats pooled_stats(const ItemSource& items, const std::vector<Rule>& rules, const SelectionOptions& opt) {
  PooledStats p;
  if (uses(rules, Rule::Mti)) p.fv_sd = fv_sd(items);
  if (needs_maps(rules)) {
    std::vector<float> d;
    auto r = percentiles(
        [&](const auto& emit) {
          items(true, [&](const SelectionItem& it) {
            if (it.phi_pos.size() != it.phi_neg.size() || it.phi_pos.empty()) {
              throw Error("the spatial and channel rules need phi maps: the run's layer has no positions");
            }
            d.resize(it.phi_pos.size());
            for (size_t i = 0; i < d.size(); ++i) d[i] = it.phi_pos[i] - it.phi_neg[i];
            emit(0, d.data(), d.size());
            emit(1, it.phi_pos.data(), it.phi_pos.size());
            emit(2, it.phi_neg.data(), it.phi_neg.size());
          });
        },
        {{opt.spatial_low_pct, opt.spatial_high_pct}, {opt.channel_pct}, {opt.channel_pct}});
    p.d_low = r[0][0];
    p.d_high = r[0][1];
    p.pos_high = r[1][0];
    p.neg_high = r[2][0];
  }
  return p;
}

namespace {

// The rule's score for one item, or kFails when the item does not pass the rule's condition.
double score(Rule r, const SelectionItem& it, const PooledStats& p, const SelectionOptions& opt) {
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

ItemSource source_of(const std::vector<SelectionItem>& items) {
  return [&items](bool, const ItemVisitor& visit) {
    for (const auto& it : items) visit(it);
  };
}

double fv_sd(const ItemSource& items) {
  return moments([&](const std::function<void(double)>& emit) {
           items(false, [&](const SelectionItem& it) { emit(it.fv); });
         }).sd;
}

double fv_sd(const std::vector<SelectionItem>& items) { return fv_sd(source_of(items)); }

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

namespace {

// Whether a ranks before b: the higher score, ties in dataset order.
bool better(const Selected& a, const Selected& b) {
  return a.score > b.score || (a.score == b.score && a.item < b.item);
}

std::string shortfall_text(const Selection& sel, const std::vector<Rule>& rules, const std::vector<size_t>& pass,
                           const PooledStats& p, const SelectionOptions& opt) {
  if (static_cast<int64_t>(sel.selected.size()) >= opt.k) return "";
  if (sel.items < static_cast<size_t>(opt.k)) {
    return "the run holds " + std::to_string(sel.items) + " images, fewer than k = " + std::to_string(opt.k);
  }
  std::string why;
  for (size_t r = 0; r < rules.size(); ++r) {
    if (!why.empty()) why += "; ";
    why += std::to_string(pass[r]) + " of " + std::to_string(sel.items) + " images pass " + rule_name(rules[r]);
    switch (rules[r]) {
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
  if (rules.size() > 1) why += "; " + std::to_string(sel.selected.size()) + " pass all of them";
  return why;
}

}  // namespace

Ranker::Ranker(std::vector<Rule> rules, SelectionOptions opt, std::optional<PooledStats> pool)
    : rules_(std::move(rules)), opt_(opt), pool_(pool.value_or(PooledStats{})), pass_(rules_.size(), 0) {
  if (rules_.empty()) throw Error("no selection rule");
  if (opt_.k < 1) throw Error("-k must be at least 1");
  if (needs_pool(rules_) && !pool) {
    throw Error("the mti, spatial and channel rules need statistics pooled over the run");
  }
}

void Ranker::add(const SelectionItem& it) {
  Selected c{0, place_++, 0, {}};
  bool all = true;
  for (size_t r = 0; r < rules_.size(); ++r) {
    const double s = score(rules_[r], it, pool_, opt_);
    if (s == kFails) {
      all = false;
    } else {
      ++pass_[r];
      c.score = s;  // ranked by the last rule's score
    }
  }
  const auto k = static_cast<size_t>(opt_.k);
  if (!all || (heap_.size() == k && !better(c, heap_.front()))) return;
  c.row = it;
  if (heap_.size() == k) {
    std::pop_heap(heap_.begin(), heap_.end(), better);
    heap_.back() = std::move(c);
  } else {
    heap_.push_back(std::move(c));
  }
  std::push_heap(heap_.begin(), heap_.end(), better);
}

Selection Ranker::finish() {
  Selection out;
  out.items = place_;
  std::sort_heap(heap_.begin(), heap_.end(), better);
  for (size_t i = 0; i < heap_.size(); ++i) heap_[i].rank = static_cast<int64_t>(i) + 1;
  out.selected = std::move(heap_);
  heap_.clear();
  out.shortfall = shortfall_text(out, rules_, pass_, pool_, opt_);
  return out;
}

std::vector<Selection> select_each(const ItemSource& items, const std::vector<std::vector<Rule>>& specs,
                                   const SelectionOptions& opt) {
  std::vector<Rule> all;
  for (const auto& rules : specs) all.insert(all.end(), rules.begin(), rules.end());
  std::optional<PooledStats> pool;
  if (needs_pool(all)) {  // pooled statistics need at least one item
    size_t n = 0;
    items(false, [&](const SelectionItem&) { ++n; });
    pool = n == 0 ? PooledStats{} : pooled_stats(items, all, opt);
  }
  std::vector<Ranker> rankers;
  for (const auto& rules : specs) rankers.emplace_back(rules, opt, pool);
  items(needs_maps(all), [&](const SelectionItem& it) {
    for (auto& r : rankers) r.add(it);
  });
  std::vector<Selection> out;
  for (auto& r : rankers) out.push_back(r.finish());
  return out;
}

Selection select_top(const ItemSource& items, const std::vector<Rule>& rules, const SelectionOptions& opt) {
  return select_each(items, {rules}, opt).front();
}

std::vector<Selected> select(const std::vector<SelectionItem>& items, const std::vector<Rule>& rules,
                             const SelectionOptions& opt) {
  return select_top(source_of(items), rules, opt).selected;
}

std::string shortfall(const std::vector<SelectionItem>& items, const std::vector<Rule>& rules,
                      const SelectionOptions& opt, size_t selected) {
  if (static_cast<int64_t>(selected) >= opt.k) return "";
  return select_top(source_of(items), rules, opt).shortfall;
}

}  // namespace tension::analysis
