// The demo's human-experiment section (paper App B, Fig 9, Fig 10): trials built on the default model, a simulated
// cohort answered through the experiment server's code path, and the analysis, with how to run it with people.
#include <fmt/format.h>

#include <cstdio>

#include "tension/report/sections.h"
#include "tension/trials/analysis.h"
#include "tension/trials/simulate.h"
#include "tension/trials/trials_build.h"

namespace tension::report {

namespace {

// The simulated cohort's accuracies, per layer (early, middle, late): the shape the paper reports for people.
const std::vector<double> kSimulatedMei = {0.8, 0.8, 0.8}, kSimulatedMii = {0.6, 0.2, 0.2};

}  // namespace

void human_section(const DemoOptions& o, RunManifest& run, render::HtmlPage& page) {
  trials::TrialsBuildOptions b;
  b.model.spec = o.models.front();
  b.model.seed = o.seed;
  b.model.device = o.device;
  b.data = o.data;
  b.layers = {"relu1", "relu2", "relu3"};  // early, middle, late
  auto bundle_run = run.nested("human/trials", "trials build");
  trials::trials_build(b, bundle_run);

  trials::SimulateOptions s;
  s.bundle = bundle_run.dir();
  s.db = run.path("human/simulated.db");
  s.accuracy_mei = kSimulatedMei;
  s.accuracy_mii = kSimulatedMii;
  s.seed = o.seed;
  std::remove(s.db.c_str());  // a rerun of the demo simulates afresh
  trials::simulate(s);
  trials::TrialsAnalyzeOptions a;
  a.db = s.db;
  a.bundle = s.bundle;
  auto analysis_run = run.nested("human/analysis", "trials analyze");
  const auto result = trials::trials_analyze_run(a, analysis_run);

  page.section("The human experiment: can people find the MII? (paper App B, Fig 9, Fig 10)", "human");
  page.paragraph(fmt::format(
      "tension trials build made one trial per feature for {} random k-means directions (k = {}) of each of {}, "
      "{} and {} ({}, early to late), read as dot*cos^2 of the pre-ReLU hidden vector at every position of every "
      "image of {}: the argmax crop is the target MEI, ranks 2-7 the example MEIs, the argmin crop the target MII, "
      "and 7 distractors lie within 2 sd of the feature's mean with a hidden-vector L1 norm at or above the "
      "layer's 90th percentile; no crop is an MII or distractor twice in a layer and no image is shown at two "
      "positions. Crops are cut to the layer's effective receptive field.",
      b.n, b.kmeans_k, b.layers[0], b.layers[1], b.layers[2], b.model.spec, o.data));
  for (const auto& l : b.layers) {
    page.image("human/trials/fig9_" + l + ".png",
               "Fig 9 (" + l + "): a trial as a participant sees it, the 6 example MEIs on the left and the 9 "
               "choices on the right; the target MEI is outlined green and the target MII orange");
  }
  page.paragraph(fmt::format(
      "No people took part here. A simulated cohort of {} participants answered every trial through the "
      "experiment server's own code path (tension trials simulate), with known accuracies: MEI {:.0f} % in every "
      "layer, MII {:.0f} %, {:.0f} % and {:.0f} % (chance: 1/9 and 1/8). The analysis (tension trials analyze) "
      "should recover them within its intervals (a 95 % interval misses the truth about once in 20), and find the "
      "first layer's MII accuracy above the later layers'.",
      s.participants, 100 * kSimulatedMei[0], 100 * kSimulatedMii[0], 100 * kSimulatedMii[1],
      100 * kSimulatedMii[2]));
  std::vector<std::vector<std::string>> rows;
  for (const auto& acc : result.accuracy) {
    const bool mei = acc.question == trials::Question::mei;
    const double truth = (mei ? kSimulatedMei : kSimulatedMii).at(static_cast<size_t>(acc.depth));
    rows.push_back({acc.layer, mei ? "MEI" : "MII", fmt::format("{:.0f} %", 100 * truth),
                    fmt::format("{:.1f} % [{:.1f}, {:.1f}]", 100 * acc.accuracy, 100 * acc.ci.low, 100 * acc.ci.high),
                    truth >= acc.ci.low && truth <= acc.ci.high ? "yes" : "no"});
  }
  page.table({"layer", "question", "simulated", "measured [95 % bootstrap interval]", "inside"}, rows);
  std::vector<std::vector<std::string>> tests;
  for (const auto& c : result.comparisons) {
    tests.push_back({c.question == trials::Question::mii ? "MII" : "MEI", c.first + " vs " + c.later,
                     fmt::format("{:+.1f} points", 100 * c.test.mean_difference), fmt::format("{:.2g}", c.test.p)});
  }
  page.table({"question", "layers", "mean difference per participant", "p (paired sign-flip test)"}, tests);
  page.image("human/analysis/fig10_accuracy.png", "Fig 10: accuracy by layer, MEI and MII, with 95 % bootstrap "
                                                   "intervals over participants and the chance levels");
  page.paragraph("To run it with people: tension trials serve " + bundle_run.dir() +
                 " --db responses.db --port 8080, behind a TLS reverse proxy (README, \"Running the experiment "
                 "with people\"); then tension trials analyze --db responses.db --bundle " + bundle_run.dir() +
                 " --out analysis.");
  nlohmann::json res = {{"participants", result.participants}, {"simulated_mei", kSimulatedMei},
                        {"simulated_mii", kSimulatedMii}, {"accuracy", analysis_run["results"]}};
  run["results"]["human"] = res;
}

}  // namespace tension::report
