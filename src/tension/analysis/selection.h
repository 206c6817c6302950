#pragma once
// Selection rules over a run's attributions (paper §3, Fig 4; docs/paper-code.md §2.13): which
// images excite, inhibit, do neither, or do both to a feature, and where.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace tension::analysis {

// One image's attribution of the feature to one layer, as the run store holds it.
struct SelectionItem {
  int64_t image = 0;                     // dataset index
  double fv = 0, e_pos = 0, e_neg = 0, l1 = 0, l2 = 0, l21 = 0;  // the run store's norms of S
  std::vector<float> phi_pos, phi_neg;   // [h * w] over the footprint (equal sizes across items)
};

// l1, l2, l21: the largest ||S||_1, ||S||_2 (over the whole vector) or L2,1 norm, with no condition on f_v (the
// uniqueness experiment's selectors, paper §6).
enum class Rule { Mei, Mii, Zero, Spatial, Channel, Mti, L1, L2, L21 };

struct SelectionOptions {
  int64_t k = 10;
  // mti: f_v strictly between these multiples of the standard deviation of f_v over the run (fv_sd).
  double mti_low_sd = -0.5, mti_high_sd = 0.0;
  // spatial: phi+ - phi- at or below the low percentile (and < 0) somewhere, at or above the high one (and > 0)
  // elsewhere. Inclusive: where positions tie at the pooled extreme the percentile equals it.
  double spatial_low_pct = 1, spatial_high_pct = 99;
  double channel_pct = 99;  // channel: phi+ and phi- both at or above it (and > 0) at one position
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SelectionOptions, k, mti_low_sd, mti_high_sd, spatial_low_pct, spatial_high_pct,
                                   channel_pct)

// The standard deviation of f_v over the items: sample_sd (core/moments.h), the unit of the mti rule's bounds.
// Throws tension::Error for no items.
double fv_sd(const std::vector<SelectionItem>& items);

// A rule spec is one rule ("mti") or several joined by '+' ("spatial+mti"): an image must pass every
// rule's condition, and is ranked by the last rule's score. Throws tension::Error for an unknown name.
std::vector<Rule> parse_rules(const std::string& spec);
std::string rule_name(Rule r);

struct Selected {
  int64_t rank = 0;       // 1-based
  size_t item = 0;        // index into the items
  double score = 0;
};

// The top k items under the rules (fewer when fewer pass). Percentiles are pooled over all items and positions.
std::vector<Selected> select(const std::vector<SelectionItem>& items, const std::vector<Rule>& rules,
                             const SelectionOptions& opt);

// Why `select` gave fewer than k images: per rule, how many images pass it and against which thresholds. Empty
// when `selected` reaches k.
std::string shortfall(const std::vector<SelectionItem>& items, const std::vector<Rule>& rules,
                      const SelectionOptions& opt, size_t selected);

}  // namespace tension::analysis
