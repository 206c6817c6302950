// The demo's completeness section (paper §2, Fig. 3 and 13).
#include <fmt/format.h>

#include "tension/analysis/completeness.h"
#include "tension/analysis/completeness_outputs.h"
#include "tension/report/sections.h"

namespace tension::report {

void completeness_section(const DemoOptions& a, const data::Dataset& ds, Models& models, RunManifest& run,
                          render::HtmlPage& page) {
  analysis::CompletenessOptions opt;
  opt.limit = a.completeness_images;
  opt.seed = a.seed;
  std::vector<analysis::CompletenessResult> results;
  for (auto& m : models) results.push_back(analysis::completeness(*m, ds, opt));
  analysis::write_completeness_outputs(results, run);
  page.section("Attribution completeness (paper §2, Fig. 3 and 13)", "completeness");
  page.paragraph(fmt::format(
      "E_l = sum(S_l), S_l = grad f_v (.) h_l, against the logit f_v for every logit, through every post-ReLU layer "
      "that all paths from the input cross (on these chains: every ReLU) and the pixels, over the first {} test images. x = fraction of the model's ReLUs before the layer.",
      results.front().images));
  page.image("completeness.png", "Pearson and Spearman correlation of f_v and E_l, and mean |f_v - E_l|");
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : results) {
    for (const auto& l : r.layers) {
      rows.push_back({r.model, l.layer, fmt::format("{:.2f}", l.depth), fmt::format("{:.4f}", l.pearson),
                      fmt::format("{:.4f}", l.spearman), fmt::format("{:.4g}", l.mean_abs_diff)});
    }
  }
  page.table({"model", "layer", "depth", "Pearson", "Spearman", "mean |f_v - E_l|"}, rows);
}

}  // namespace tension::report
