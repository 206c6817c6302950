// Cuts from the autograd graph (issue 13 part 1): models whose cut layers are known by construction
// (tests/python/fixture_cuts.py, torchvision's googlenet and the native InceptionV1), the App. E depth as a count
// of ReLUs, completeness through exactly the cuts, and the native `*_pre_relu` taps against ReLU(pre) = post.
#include <gtest/gtest.h>

#include <set>

#include "tension/analysis/completeness.h"
#include "tension/data/dataset.h"
#include "tension/feature/feature.h"
#include "tension/model/graph_cuts.h"
#include "tension/model/torchscript/model.h"
#include "test_zoo_util.h"
#include "testing.h"

using namespace tension;
using tension::testing::testdata;
using tension::testing::zoo_model;

namespace {

std::unique_ptr<model::Model> cuts_model(const std::string& file) {
  model::InputSpec in;
  in.height = in.width = 16;
  in.fixed_size = true;
  return model::load_torchscript(testdata("cuts/" + file), in);
}

// The post-ReLU cuts with respect to the output, each value once (the first tap holding it).
std::vector<std::string> post_relu_cuts(const model::CutAnalysis& a) {
  std::vector<std::string> out;
  for (const auto& t : a.taps) {
    if (t.cut && t.post_relu && t.same_as.empty()) out.push_back(t.tap.layer);
  }
  return out;
}

std::vector<std::string> layer_names(const analysis::CompletenessResult& r) {
  std::vector<std::string> out;
  for (const auto& l : r.layers) out.push_back(l.layer);
  return out;
}

const model::TapCut& tap(const model::CutAnalysis& a, const std::string& layer) {
  for (const auto& t : a.taps) {
    if (t.tap.layer == layer) return t;
  }
  throw std::runtime_error("no tap " + layer);
}

}  // namespace

class CutFixtures : public ::testing::TestWithParam<std::string> {};

TEST_P(CutFixtures, ResidualBlockOutputIsACutItsInnerReluIsNot) {
  auto m = cuts_model("residual_" + GetParam() + ".pt");
  auto a = model::analyse_cuts(*m);
  EXPECT_EQ(post_relu_cuts(a), (std::vector<std::string>{"relu0", "block", "relu3"}));
  EXPECT_FALSE(tap(a, "block.relu1").cut) << "the skip connection bypasses it";
  EXPECT_TRUE(tap(a, "block.relu1").post_relu);
  EXPECT_TRUE(tap(a, "conv0").cut);
  EXPECT_FALSE(tap(a, "conv0").post_relu);
  EXPECT_FALSE(tap(a, "block.conv2").cut);
  EXPECT_EQ(tap(a, "block.relu2").same_as, "block");
  // relu0, relu1, relu2, relu3: depth counts every ReLU, the one off the skip path included.
  EXPECT_EQ(a.total_relus, 4);
  EXPECT_EQ(tap(a, "relu0").relus_before, 1);
  EXPECT_EQ(tap(a, "block.relu1").relus_before, 2);
  EXPECT_EQ(tap(a, "block").relus_before, 3);
  EXPECT_DOUBLE_EQ(model::relu_depth(tap(a, "block"), a), 0.75);
  EXPECT_FALSE(tap(a, "fc").cut) << "the target's own value is not a cut";
}

// The attribution layer of each tap (paper §6's "preceding layer"): the nearest post-ReLU tap on every path from
// the input, read off the dominator tree, against the answers known by construction.
TEST_P(CutFixtures, PrecedingCutIsTheNearestPostReluLayerOnEveryPath) {
  auto r = model::analyse_cuts(*cuts_model("residual_" + GetParam() + ".pt"));
  EXPECT_EQ(tap(r, "conv0").preceding_cut, "");
  EXPECT_EQ(tap(r, "relu0").preceding_cut, "") << "a tap is not its own preceding cut";
  EXPECT_EQ(tap(r, "block.conv1").preceding_cut, "relu0");
  EXPECT_EQ(tap(r, "block.conv2").preceding_cut, "block.relu1") << "relu1 is on every path to conv2";
  EXPECT_EQ(tap(r, "block").preceding_cut, "relu0") << "the skip connection bypasses relu1";
  EXPECT_EQ(tap(r, "conv3").preceding_cut, "block") << "named by the first tap holding the value";
  EXPECT_EQ(tap(r, "fc").preceding_cut, "relu3");

  auto m = cuts_model("parallel_" + GetParam() + ".pt");
  // An extra tap: the pre-activation of relu_out, where a feature of relu_out is read.
  auto p = model::analyse_cuts(*m, nullptr, {{"relu_out", model::TapSide::Input}});
  EXPECT_EQ(tap(p, "block.relu_a").preceding_cut, "stem_relu");
  EXPECT_EQ(tap(p, "block.conv_b").preceding_cut, "block.relu_bb");
  EXPECT_EQ(tap(p, "block").preceding_cut, "stem_relu") << "the branches' ReLUs are no cut of their concatenation";
  EXPECT_EQ(tap(p, "conv_out").preceding_cut, "block");
  EXPECT_EQ(p.taps.back().preceding_cut, "block");
}

TEST_P(CutFixtures, ConcatenatedBranchesAreACutTheBranchesAreNot) {
  auto m = cuts_model("parallel_" + GetParam() + ".pt");
  auto a = model::analyse_cuts(*m);
  EXPECT_EQ(post_relu_cuts(a), (std::vector<std::string>{"stem_relu", "block", "relu_out"}));
  for (const char* inner : {"block.relu_a", "block.relu_bb", "block.relu_b", "block.conv_b"}) {
    EXPECT_FALSE(tap(a, inner).cut) << inner;
  }
  EXPECT_EQ(a.total_relus, 5);
  EXPECT_EQ(tap(a, "block").relus_before, 4);
  // With respect to a unit inside one branch, that branch's layers are cuts and the other branch is not upstream.
  model::Tap target{"block.relu_b", model::TapSide::Output};
  auto b = model::analyse_cuts(*m, &target);
  EXPECT_TRUE(tap(b, "block.relu_bb").cut);
  EXPECT_TRUE(tap(b, "stem_relu").cut);
  EXPECT_FALSE(tap(b, "block.relu_a").upstream);
  EXPECT_FALSE(tap(b, "block.relu_a").cut);
  EXPECT_FALSE(tap(b, "relu_out").upstream);
}

INSTANTIATE_TEST_SUITE_P(Frontends, CutFixtures, ::testing::Values("scripted", "traced"));

TEST(GraphCuts, CompletenessDefaultsToTheCutsAndMarksOtherRelus) {
  auto m = cuts_model("residual_scripted.pt");
  auto ds = data::open_dataset("synthetic:noise?n=8&size=16&channels=3&seed=1");
  analysis::CompletenessOptions opt;
  opt.logits = 2;
  auto r = analysis::completeness(*m, *ds, opt);
  EXPECT_EQ(layer_names(r), (std::vector<std::string>{"input", "relu0", "block", "relu3"}));
  opt.all_relus = true;
  r = analysis::completeness(*m, *ds, opt);
  ASSERT_EQ(r.layers.size(), 5u);
  EXPECT_EQ(r.layers[2].layer, "block.relu1");
  EXPECT_FALSE(r.layers[2].cut);
  EXPECT_DOUBLE_EQ(r.layers[2].depth, 0.5);
  EXPECT_TRUE(r.layers[3].cut);
}

TEST(GraphCuts, TorchvisionGooglenetCutsAreItsBlocks) {
  auto m = model::load_torchscript(testdata("ts_googlenet_scripted.pt"), model::InputSpec{});
  auto a = model::analyse_cuts(*m);
  EXPECT_EQ(post_relu_cuts(a), (std::vector<std::string>{"conv1", "conv2", "conv3", "inception3a", "inception3b",
                                                         "inception4a", "inception4b", "inception4c", "inception4d",
                                                         "inception4e", "inception5a", "inception5b"}));
  EXPECT_EQ(tap(a, "inception4a").preceding_cut, "inception3b");
  EXPECT_EQ(tap(a, "fc").preceding_cut, "inception5b");
}

const std::vector<std::string> kInceptionV1Cuts = {"conv2d0", "conv2d1", "conv2d2", "mixed3a", "mixed3b",
                                                   "mixed4a", "mixed4b", "mixed4c", "mixed4d", "mixed4e",
                                                   "mixed5a", "mixed5b"};

TEST(GraphCuts, InceptionV1CompletenessRunsThroughTheBlockOutputs) {
  auto m = zoo_model("inception-v1", "", 3);
  auto a = model::analyse_cuts(*m);
  EXPECT_EQ(post_relu_cuts(a), kInceptionV1Cuts);
  // 3 stem ReLUs, then per block 2 bottleneck and 4 branch ReLUs.
  EXPECT_EQ(a.total_relus, 3 + 9 * 6);
  EXPECT_EQ(tap(a, "mixed3a").relus_before, 9);
  // The paper's example (§6, Fig 8): mixed4a's features are attributed to mixed3b.
  EXPECT_EQ(tap(a, "mixed4a").preceding_cut, "mixed3b");
  EXPECT_EQ(tap(a, "mixed4a_pre_relu").preceding_cut, "mixed3b");
  EXPECT_EQ(tap(a, "mixed4d").preceding_cut, "mixed4c");
  EXPECT_EQ(tap(a, "mixed3a_3x3_pre_relu_conv").preceding_cut, "mixed3a_3x3_bottleneck");
  EXPECT_EQ(tap(a, "conv2d0").preceding_cut, "");
  EXPECT_FALSE(tap(a, "mixed3a_3x3").cut);
  EXPECT_TRUE(tap(a, "mixed3a_pre_relu").cut);
  EXPECT_FALSE(tap(a, "mixed3a_pre_relu").post_relu);

  auto ds = data::open_dataset("synthetic:noise?n=2&size=224&channels=3&seed=1");
  analysis::CompletenessOptions opt;
  opt.logits = 1;
  auto r = analysis::completeness(*m, *ds, opt);
  std::vector<std::string> expected{"input"};
  expected.insert(expected.end(), kInceptionV1Cuts.begin(), kInceptionV1Cuts.end());
  EXPECT_EQ(layer_names(r), expected);
  EXPECT_DOUBLE_EQ(r.layers.back().depth, 1.0);
  EXPECT_DOUBLE_EQ(r.layers[4].depth, 9.0 / 57);
}

// Every native `*_pre_relu` tap is the pre-activation of its ReLU: post = ReLU(pre) elementwise on random inputs.
TEST(GraphCuts, InceptionV1PreReluTapsAreThePreActivations) {
  auto m = zoo_model("inception-v1", "", 3);
  auto x = tension::testing::example_input(*m, 2, 96);
  int checked = 0;
  for (const auto& l : m->layers()) {
    for (const std::string suffix : {"_pre_relu", "_pre_relu_conv"}) {
      auto at = l.name.rfind(suffix);
      if (at == std::string::npos || at + suffix.size() != l.name.size()) continue;
      auto post_name = l.name.substr(0, at);
      auto pre_tap = feature::feature_tap(*m, l.name);
      auto r = m->run(x, {pre_tap, {post_name, model::TapSide::Output}});
      ASSERT_EQ(r.taps[0].sizes(), r.taps[1].sizes()) << l.name << " resolved to " << pre_tap.str();
      EXPECT_TRUE(torch::equal(torch::relu(r.taps[0]), r.taps[1])) << l.name;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 9 + 3 + 9 * 6);  // block concatenations, stem convs, every conv of every block
  // A block feature and its _pre_relu spelling read the same pre-activation.
  EXPECT_EQ(feature::feature_tap(*m, "mixed4a"), feature::feature_tap(*m, "mixed4a_pre_relu"));
}
