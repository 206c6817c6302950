// The demo's uniqueness section (paper §6, Fig 8, App H, Fig 16): the experiment on the default model for every
// pair of consecutive ReLU layers, over the whole test set.
#include <fmt/format.h>

#include "tension/analysis/uniqueness_run.h"
#include "tension/report/sections.h"

namespace tension::report {

void uniqueness_section(const DemoOptions& o, RunManifest& run, render::HtmlPage& page) {
  analysis::UniquenessOptions u;
  u.model.spec = o.models.front();
  u.model.seed = o.seed;
  u.model.device = o.device;
  u.data = o.data;
  u.layers = {"relu2", "relu3", "relu4"};  // attributed to relu1, relu2, relu3: their preceding cuts
  auto sub = run.nested("uniqueness", "uniqueness");
  analysis::uniqueness_run(u, sub);
  const auto& layers = sub["results"]["layers"];
  run["results"]["uniqueness"] = layers;

  page.section("Superposition: uniqueness of MEIs and MTIs (paper §6, Fig 8, App H, Fig 16)", "uniqueness");
  page.paragraph(fmt::format(
      "For each ReLU layer of {} after the first, {} random units (at the centre) and {} spread-out k-means "
      "directions (k = {} on one random position per image, then k = {} on the centroids, one random centroid "
      "per group; read as dot*cos^2) are attributed to the preceding ReLU layer over all {} images of {}. For each "
      "feature the top {} images by f_v (MEIs), by ||S||_1 and by ||S||_2 (over the whole vector) are taken, and "
      "U = |union| / (n m) (eq. 6) measures how distinct the features' selections are: 1 when no image repeats, "
      "1/n = {:.2f} when every feature picks the same images (tension uniqueness).",
      u.model.spec, u.n, u.n, u.kmeans_k, u.n, sub["dataset"]["images"].get<size_t>(), o.data, u.m, 1.0 / u.n));
  std::vector<std::vector<std::string>> rows;
  for (const auto& l : layers) {
    for (const auto& family : u.families) {
      std::vector<std::string> row{l["layer"].get<std::string>(), l["attribution_layer"].get<std::string>(),
                                   fmt::format("{:.2f}", l["depth"].get<double>()), family};
      for (const auto& s : u.selectors) row.push_back(fmt::format("{:.3f}", l["U"][family][s].get<double>()));
      row.push_back(std::to_string(l["shared"][family]["l1"].size()));
      rows.push_back(row);
    }
  }
  std::vector<std::string> header{"feature layer", "attributed to", "depth", "features"};
  for (const auto& s : u.selectors) header.push_back("U, " + s);
  header.push_back(fmt::format("images in the ||S||_1 top {} of >= {} features", u.m, u.shared_min));
  page.table(header, rows);
  // The paper's trend (Fig 8a), checked on these numbers per family.
  nlohmann::json trend;
  std::string verdicts;
  for (const auto& family : u.families) {
    bool mei_high = true, l1_falls = true, l2_above = true;
    for (size_t i = 0; i < layers.size(); ++i) {
      const auto& uf = layers[i]["U"][family];
      mei_high = mei_high && uf["mei"].get<double>() >= 0.9;
      l2_above = l2_above && uf["l2"].get<double>() >= uf["l1"].get<double>();
      if (i > 0) l1_falls = l1_falls && uf["l1"].get<double>() < layers[i - 1]["U"][family]["l1"].get<double>();
    }
    trend[family] = {{"mei_near_1", mei_high}, {"l1_falls_with_depth", l1_falls}, {"l2_above_l1", l2_above}};
    auto yn = [](bool b) { return b ? "yes" : "no"; };
    verdicts += fmt::format(" {}: MEI U >= 0.9 at every depth: {}; ||S||_1's U falls with depth: {}; ||S||_2's U "
                            "at or above ||S||_1's: {}.",
                            family, yn(mei_high), yn(l1_falls), yn(l2_above));
  }
  run["results"]["uniqueness_trend"] = trend;
  page.paragraph("The paper's trend (InceptionV1, Fig 8a), on this model." + verdicts);
  page.image("uniqueness/fig8a.png", "Fig 8a: U against depth; MEI red, ||S||_2 light green, ||S||_1 dark green; "
                                     "units solid, k-means dotted; the bounds 1 and 1/n grey");
  page.image("uniqueness/fig8b.png", "Fig 8b: units of the deepest layer, one per row: top 3 MEIs, then top 3 "
                                     "MTIs by ||S||_1 with their ± overlays underneath, cropped to the effective "
                                     "receptive field");
  for (const auto& l : layers) {
    for (const auto& family : u.families) {
      if (l["shared"][family]["l1"].empty()) continue;
      const std::string layer = l["layer"].get<std::string>();
      page.image(fmt::format("uniqueness/fig16-{}-{}.png", layer, family),
                 fmt::format("Fig 16 ({}, {}): images in the ||S||_1 top {} of at least {} of the {} features, with "
                             "their counts",
                             layer, family, u.m, u.shared_min, u.n));
    }
  }
}

}  // namespace tension::report
