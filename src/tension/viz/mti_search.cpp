#include "tension/viz/mti_search.h"

#include <limits>

#include "tension/analysis/selection.h"
#include "tension/core/error.h"
#include "tension/core/progress.h"
#include "tension/data/loader.h"

namespace tension::viz {

std::vector<MtiPick> find_mtis(attribution::Attributor& a, const data::Dataset& ds, size_t limit) {
  data::LoaderOptions lo;
  for (size_t i = 0; i < std::min(limit, ds.size()); ++i) lo.indices.push_back(i);
  data::BatchLoader loader(ds, a.model().input_spec(), lo);
  Progress progress("MTI search", loader.num_items(), "img");
  const size_t k = a.options().features.size();
  std::vector<std::vector<torch::Tensor>> fv(k), l1(k);
  std::vector<int64_t> index;
  data::Batch b;
  while (loader.next(b)) {
    progress.advance(b.indices.size() + b.failures.size());
    if (b.x.size(0) == 0) continue;
    auto res = a.attribute(b.x);
    for (size_t f = 0; f < k; ++f) {
      fv[f].push_back(res[f].fv.cpu());
      l1[f].push_back(res[f].layers[0].totals.l1.cpu());
    }
    index.insert(index.end(), b.indices.begin(), b.indices.end());
  }
  progress.finish();
  if (index.size() < 2) throw Error("the MTI search needs at least two readable images in " + ds.describe());
  std::vector<MtiPick> out;
  for (size_t f = 0; f < k; ++f) {
    auto v = torch::cat(fv[f]).to(torch::kDouble), n = torch::cat(l1[f]).to(torch::kDouble);
    std::vector<analysis::SelectionItem> items(index.size());
    for (size_t i = 0; i < index.size(); ++i) {
      items[i].image = index[i];
      items[i].fv = v[static_cast<int64_t>(i)].item<double>();
      items[i].l1 = n[static_cast<int64_t>(i)].item<double>();
    }
    // The selection rule itself; when no image lies in its f_v window, the largest ||S||_1 overall.
    analysis::SelectionOptions so;
    so.k = 1;
    auto sel = analysis::select(items, {analysis::Rule::Mti}, so);
    MtiPick p;
    p.in_window = !sel.empty();
    if (!p.in_window) {
      so.mti_low_sd = -std::numeric_limits<double>::infinity();
      so.mti_high_sd = std::numeric_limits<double>::infinity();
      sel = analysis::select(items, {analysis::Rule::Mti}, so);
    }
    if (sel.empty()) throw Error("the MTI search found no image with a finite f_v");
    p.index = static_cast<size_t>(items[sel[0].item].image);
    p.fv = items[sel[0].item].fv;
    p.sd = v.std(/*unbiased=*/false).item<double>();
    out.push_back(p);
  }
  return out;
}

}  // namespace tension::viz
