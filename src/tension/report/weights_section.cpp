// The demo's weight-sign section (paper App. D, Fig. 12).
#include <fmt/format.h>

#include "tension/analysis/weight_outputs.h"
#include "tension/analysis/weight_signs.h"
#include "tension/report/sections.h"

namespace tension::report {

void weights_section(Models& models, RunManifest& run, render::HtmlPage& page) {
  std::vector<analysis::WeightSigns> all;
  for (auto& m : models) all.push_back(analysis::weight_signs(*m));
  analysis::write_weight_outputs(all, run);
  page.section("Weight signs (paper App. D, Fig. 12)", "weights");
  std::string summary;
  for (const auto& w : all) summary += fmt::format("{}: {:.1f}% negative. ", w.model, 100 * w.fraction_negative);
  page.paragraph(summary);
  page.image("weights.png", "Weights standardised within each layer, pooled; fraction negative per layer");
}

}  // namespace tension::report
