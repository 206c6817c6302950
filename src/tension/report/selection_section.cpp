// The demo's selection section (paper §3, Fig 2, Fig 4): k-means directions, two attribution runs on the default
// model, the selection rules with their ± overlays, the E± scatter, MEI/MII rows and the interactive page.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "tension/analysis/feature_view.h"
#include "tension/analysis/kmeans.h"
#include "tension/analysis/selection_outputs.h"
#include "tension/model/model_source.h"
#include "tension/report/sections.h"
#include "tension/store/attribute_run.h"
#include "tension/store/run_inputs.h"
#include "tension/core/npy.h"
#include "tension/feature/feature.h"
#include "tension/render/html_page.h"

namespace tension::report {

void selection_section(const DemoOptions& opt, RunManifest& run, render::HtmlPage& page) {
  const std::string& data = opt.data;
  const std::string& model_name = opt.models.front();
  const size_t images = opt.completeness_images;
  const uint64_t seed = opt.seed;
  model::ModelSource ma;
  ma.spec = model_name;
  ma.seed = seed;
  ma.device = opt.device;
  // k-means directions of conv3 (App B, H): 100 clusters of one random position per image, 4 spread-out picks.
  std::string directions = run.path("kmeans-conv3.npy");
  {
    auto m = model::load_model(ma);
    auto ds = data::open_dataset(data);
    analysis::HiddenSampleOptions so;
    so.limit = images;
    so.seed = seed;
    auto x = analysis::sample_hidden_vectors(*m, *ds, feature::feature_tap(*m, "conv3"), so);
    analysis::KMeansOptions ko;
    ko.k = 100;
    ko.seed = seed;
    write_npy(directions, analysis::spread_directions(analysis::spherical_kmeans(x, ko).centroids, 4, seed));
    run.add_output("kmeans-conv3.npy", "4 spread-out k-means directions of conv3 (tension kmeans -k 100 --pick 4)");
  }

  // The main feature, attributed to the layer before it, and the features of the MEI/MII rows.
  const std::string feature = "conv3:40";
  store::AttributeOptions main;
  main.model = ma;
  main.data = data;
  main.features = {feature};
  main.layers = {"relu2"};
  main.pass.limit = images;
  auto main_run = run.nested("attribution", "attribute");
  store::attribute_run(main, main_run);
  store::AttributeOptions rows = main;
  rows.features = {"conv2:3", "conv3:40", "fc1:7", "conv3:@" + directions + "#0", "conv3:@" + directions + "#1"};
  rows.layers = {"relu1"};
  auto rows_run = run.nested("attribution-rows", "attribute");
  store::attribute_run(rows, rows_run);

  auto in = store::open_run_inputs(main_run.dir(), opt.device);
  auto sel = run.nested("select", "select");
  analysis::FeatureView view(*in.store, *in.model, *in.data, 0, 0);
  analysis::SelectionOutputOptions so;
  so.rules.k = 8;
  const std::vector<std::string> rules{"mei", "mii", "mti", "spatial", "channel", "zero"};
  auto selections = analysis::write_selection_outputs(view, rules, so, sel);
  sel.write();

  auto rin = store::open_run_inputs(rows_run.dir(), opt.device);
  analysis::write_mei_mii_rows(*rin.store, *rin.model, *rin.data, 0, {}, 8, run.path("mei-mii.png"));
  run.add_output("mei-mii.png", "MEI and MII rows of units of conv2, conv3, fc1 and two k-means directions (Fig 2)");

  page.section("Exciting, inhibiting and tense images (paper §3, Fig 2 and 4)", "selection");
  page.paragraph(fmt::format(
      "{} of {} attributed to relu2 over the first {} test images (tension attribute, then tension select). "
      "Rules: mei/mii = top/bottom f_v; mti = top ||S||_1 with -0.5 sd < f_v < 0; spatial = phi+ - phi- below its "
      "P1 and above its P99 (pooled over the run); channel = phi+ and phi- both above their P99 at one position; "
      "zero = E+ and E- both near zero.", feature, model_name, view.size()));
  page.raw("<p><a href=\"select/page.html\">Open the interactive page</a>: hover or click a point for its image, "
           "its crop and its ± overlay; tick rules to circle their selections.</p>");
  page.image("select/scatter.png", "(E+, E-) of every image, coloured by f_v; dashed lines of constant E = E+ - E-; "
                                   "the images each rule selects are circled (Fig 4a)");
  for (const auto& s : selections) {
    std::string stem = s.spec;
    if (s.selected.empty()) {
      page.paragraph(s.spec + ": no image passes the rule on this run.");
      continue;
    }
    page.image("select/grid-" + stem + ".png",
               s.spec + ": the selected images cropped to the unit's receptive field, and their ± overlays (red "
                        "excites, blue inhibits, green both; thresholds pooled over the row)");
  }
  page.image("mei-mii.png", "Fig 2: for conv2:3, conv3:40, fc1:7 and two k-means directions of conv3 (rows in that "
                            "order), a row of MEIs then a row of MIIs, cropped to the receptive field");
  nlohmann::json counts;
  for (const auto& s : selections) counts[s.spec] = s.selected.size();
  run["results"]["selection"] = {{"feature", feature}, {"images", view.size()}, {"selected", counts}};
}

}  // namespace tension::report
