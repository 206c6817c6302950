#pragma once
// Selection rules over a run's attributions (paper §3, Fig 4; docs/paper-code.md §2.13): which
// images excite, inhibit, do neither, or do both to a feature, and where.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
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

// The items of one feature and layer replayed on demand, in dataset order, as often as a selection asks: each call
// passes every item to `visit`, with its phi maps when `maps`. A run's rows stream from its store
// (FeatureView::source), so that a selection keeps the k best items and never all of them.
using ItemVisitor = std::function<void(const SelectionItem&)>;
using ItemSource = std::function<void(bool maps, const ItemVisitor& visit)>;
// A list in memory as a source (it must outlive the source).
ItemSource source_of(const std::vector<SelectionItem>& items);

// The standard deviation of f_v over the items: sample_sd (core/moments.h), the unit of the mti rule's bounds.
// Throws tension::Error for no items.
double fv_sd(const std::vector<SelectionItem>& items);
double fv_sd(const ItemSource& items);

// A rule spec is one rule ("mti") or several joined by '+' ("spatial+mti"): an image must pass every
// rule's condition, and is ranked by the last rule's score. Throws tension::Error for an unknown name.
std::vector<Rule> parse_rules(const std::string& spec);
std::string rule_name(Rule r);

struct Selected {
  int64_t rank = 0;       // 1-based
  size_t item = 0;        // the item's place in the source (the index into a list's items)
  double score = 0;
  SelectionItem row;      // the item itself, with its phi maps when the rules read them
};

struct Selection {
  std::vector<Selected> selected;  // best first; ties keep dataset order
  size_t items = 0;                // how many the source holds
  std::string shortfall;           // why fewer than k were selected (empty when k were)
};

// What the rules pool over every item: the unit of mti's window and the spatial and channel thresholds.
struct PooledStats {
  double fv_sd = 0;
  double d_low = 0, d_high = 0;       // percentiles of phi+ - phi-
  double pos_high = 0, neg_high = 0;  // percentiles of phi+ and of phi-
};
// Streams the source for the statistics the rules need: f_v's sd in two passes, the percentiles in two more.
PooledStats pooled_stats(const ItemSource& items, const std::vector<Rule>& rules, const SelectionOptions& opt);
// Whether the rules read pooled statistics (mti, spatial, channel), and phi maps (spatial, channel).
bool needs_pool(const std::vector<Rule>& rules);
bool needs_maps(const std::vector<Rule>& rules);

// The k best items under the rules, fed one item at a time in dataset order: it keeps those k and counts what
// passes each rule, never keeping the rest. Several rankers fill in one pass over a run (the uniqueness experiment's
// features and selectors). `pool`: required when the rules need it.
class Ranker {
 public:
  Ranker(std::vector<Rule> rules, SelectionOptions opt, std::optional<PooledStats> pool = std::nullopt);
  void add(const SelectionItem& item);
  Selection finish();

 private:
  std::vector<Rule> rules_;
  SelectionOptions opt_;
  PooledStats pool_;
  std::vector<Selected> heap_;  // the k best so far, the worst on top
  std::vector<size_t> pass_;    // per rule, how many items pass it
  size_t place_ = 0;
};

// The top k items under the rules (fewer when fewer pass), and why there are fewer. Percentiles are pooled over all
// items and positions. Streams the source: one pass scores every item, keeping the k best; mti's standard deviation
// takes two passes before it, the spatial and channel percentiles two more (core/percentile.h). Memory holds the
// k best items, never the rest.
Selection select_top(const ItemSource& items, const std::vector<Rule>& rules, const SelectionOptions& opt);
// Several rule lists over one source in shared passes (one count, the statistics all of them pool, one scoring
// pass): a selection per list, in order.
std::vector<Selection> select_each(const ItemSource& items, const std::vector<std::vector<Rule>>& specs,
                                   const SelectionOptions& opt);

// The same over a list in memory: the selected items.
std::vector<Selected> select(const std::vector<SelectionItem>& items, const std::vector<Rule>& rules,
                             const SelectionOptions& opt);

// Why `select` gave fewer than k images: per rule, how many images pass it and against which thresholds. Empty
// when `selected` reaches k.
std::string shortfall(const std::vector<SelectionItem>& items, const std::vector<Rule>& rules,
                      const SelectionOptions& opt, size_t selected);

}  // namespace tension::analysis
