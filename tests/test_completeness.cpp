// Completeness (paper §2): correlation helpers on analytic cases; E_l = f_v exactly on a positively
// homogeneous network at every depth, pixels included; depth as the fraction of preceding ReLUs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tension/analysis/completeness.h"
#include "tension/analysis/completeness_outputs.h"
#include "tension/analysis/correlation.h"
#include "tension/data/dataset.h"
#include "tension/model/torchscript/model.h"
#include "testing.h"

using namespace tension;

TEST(Correlation, AnalyticCases) {
  auto x = torch::arange(10, torch::kFloat64);
  EXPECT_NEAR(analysis::pearson(x, 3 * x + 1), 1.0, 1e-12);
  EXPECT_NEAR(analysis::pearson(x, -x), -1.0, 1e-12);
  EXPECT_NEAR(analysis::spearman(x, x.pow(3)), 1.0, 1e-12) << "monotonic, not linear";
  EXPECT_LT(analysis::pearson(x, x.pow(3)), 0.95);
  auto ranks = analysis::average_ranks(torch::tensor({3.0, 1.0, 2.0, 2.0}));
  EXPECT_TRUE(torch::equal(ranks, torch::tensor({4.0, 1.0, 2.5, 2.5})));
  EXPECT_TRUE(std::isnan(analysis::pearson(x, torch::ones({10}))));
}

namespace {
std::unique_ptr<model::Model> net(const std::string& name) {
  model::InputSpec in;
  in.height = in.width = 24;
  return model::load_torchscript(tension::testing::testdata("attribution/" + name + ".pt"), in);
}
}  // namespace

TEST(Completeness, ExactOnAPositivelyHomogeneousNetwork) {
  auto m = net("net_nobias");
  auto ds = data::open_dataset("synthetic:noise?n=48&size=24&channels=3&seed=2");
  analysis::CompletenessOptions opt;
  opt.logits = 4;
  opt.batch_size = 16;
  auto r = analysis::completeness(*m, *ds, opt);
  EXPECT_EQ(r.images, 48u);
  EXPECT_EQ(r.features.size(), 4u);
  ASSERT_EQ(r.layers.size(), 4u);  // pixels + relu1..relu3
  EXPECT_EQ(r.layers[0].layer, "input");
  EXPECT_EQ(r.layers[0].depth, 0.0);
  EXPECT_NEAR(r.layers[1].depth, 1.0 / 3, 1e-12);
  EXPECT_EQ(r.layers[3].depth, 1.0);
  for (const auto& l : r.layers) {
    EXPECT_NEAR(l.pearson, 1.0, 1e-6) << l.layer;
    EXPECT_NEAR(l.spearman, 1.0, 1e-6) << l.layer;
    EXPECT_LT(l.mean_abs_diff, 1e-4) << l.layer;
  }
}

TEST(Completeness, BiasesOpenAGapOfExactlyTheMissedBias) {
  auto m = net("net");
  auto ref = tension::testing::load_tensor_dict(tension::testing::testdata("attribution/net_ref.pt"));
  auto ds = data::open_dataset("synthetic:noise?n=48&size=24&channels=3&seed=2");
  analysis::CompletenessOptions opt;
  opt.features = {"conv4:2", "conv4:7"};
  auto r = analysis::completeness(*m, *ds, opt);
  // f = W4 h3 + b4 is affine in relu3's output, so f_v - E_relu3 = b4[unit] for every image.
  auto b = ref["conv4_bias"];
  double expected = (b[2].abs().item<double>() + b[7].abs().item<double>()) / 2;
  EXPECT_NEAR(r.layers[3].mean_abs_diff, expected, 1e-5 * (1 + expected));
  // Through the pixels every bias is missed: a clear gap.
  EXPECT_GT(r.layers[0].mean_abs_diff, 1e-3);
}

// The outputs are written by the library (no binary spawned): one CSV row per layer with its cut flag, the JSON
// beside it, and run.json's results.
TEST(CompletenessOutputs, CsvAndResultsCarryEveryLayer) {
  analysis::CompletenessResult r;
  r.model = "m";
  r.features = {"fc:0"};
  r.images = 5;
  r.layers = {{"input", 0.0, true, 0.5, 0.4, 2.0, {0.5}}, {"relu1", 0.5, false, 0.9, 0.8, 0.25, {0.9}}};
  const std::string dir = tension::testing::temp_dir("completeness_outputs");
  RunManifest run(dir, "completeness", {"tension", "completeness"});
  analysis::write_completeness_outputs({r}, run);
  std::ifstream f(dir + "/completeness.csv");
  std::string header, row1, row2;
  std::getline(f, header);
  std::getline(f, row1);
  std::getline(f, row2);
  EXPECT_EQ(header, "model,layer,depth,cut,pearson,spearman,mean_abs_diff");
  EXPECT_EQ(row1, "m,input,0,1,0.5,0.4,2");
  EXPECT_EQ(row2, "m,relu1,0.5,0,0.9,0.8,0.25");
  EXPECT_EQ(run["results"]["completeness"][0]["layers"][1]["cut"], false);
  EXPECT_TRUE(std::filesystem::exists(dir + "/completeness.png"));
}
