#include "tension/analysis/mti_search.h"

#include <limits>

#include "tension/analysis/selection.h"
#include "tension/core/error.h"
#include "tension/core/progress.h"
#include "tension/data/loader.h"

namespace tension::analysis {

std::vector<std::vector<MtiPick>> find_mti_sets(attribution::Attributor& a, const data::Dataset& ds, size_t limit,
                                                size_t k) {
  if (k < 1) throw Error("the MTI search needs k >= 1");
  data::LoaderOptions lo;
  for (size_t i = 0; i < std::min(limit, ds.size()); ++i) lo.indices.push_back(i);
  data::BatchLoader loader(ds, a.model().input_spec(), lo);
  Progress progress("MTI search", loader.num_items(), "img");
  const size_t nf = a.options().features.size();
  std::vector<std::vector<torch::Tensor>> fv(nf), l1(nf);
  std::vector<int64_t> index;
  data::Batch b;
  while (loader.next(b)) {
    progress.advance(b.indices.size() + b.failures.size());
    if (b.x.size(0) == 0) continue;
    auto res = a.attribute(b.x);
    for (size_t f = 0; f < nf; ++f) {
      fv[f].push_back(res[f].fv.cpu());
      l1[f].push_back(res[f].layers[0].totals.l1.cpu());
    }
    index.insert(index.end(), b.indices.begin(), b.indices.end());
  }
  progress.finish();
  if (index.size() < 2) throw Error("the MTI search needs at least two readable images in " + ds.describe());
  std::vector<std::vector<MtiPick>> out;
  for (size_t f = 0; f < nf; ++f) {
    auto v = torch::cat(fv[f]).to(torch::kDouble), n = torch::cat(l1[f]).to(torch::kDouble);
    std::vector<analysis::SelectionItem> items(index.size());
    for (size_t i = 0; i < index.size(); ++i) {
      items[i].image = index[i];
      items[i].fv = v[static_cast<int64_t>(i)].item<double>();
      items[i].l1 = n[static_cast<int64_t>(i)].item<double>();
    }
    const double sd = fv_sd(items);
    // The selection rule itself; when too few images lie in its f_v window, the largest ||S||_1 outside it.
    analysis::SelectionOptions so;
    so.k = static_cast<int64_t>(k);
    std::vector<MtiPick> picks;
    std::vector<bool> taken(items.size(), false);
    for (bool in_window : {true, false}) {
      if (!in_window) {
        so.mti_low_sd = -std::numeric_limits<double>::infinity();
        so.mti_high_sd = std::numeric_limits<double>::infinity();
      }
      for (const auto& s : analysis::select(items, {analysis::Rule::Mti}, so)) {
        if (picks.size() == k || taken[s.item]) continue;
        taken[s.item] = true;
        picks.push_back({static_cast<size_t>(items[s.item].image), items[s.item].fv, sd, in_window});
      }
    }
    if (picks.empty()) throw Error("the MTI search found no image with a finite f_v");
    out.push_back(std::move(picks));
  }
  return out;
}

std::vector<MtiPick> find_mtis(attribution::Attributor& a, const data::Dataset& ds, size_t limit) {
  std::vector<MtiPick> out;
  for (auto& picks : find_mti_sets(a, ds, limit, 1)) out.push_back(picks.front());
  return out;
}

}  // namespace tension::analysis
