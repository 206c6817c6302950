// The zoo against independent Python implementations (tests/python/fixture_zoo.py): Lucid's InceptionV1
// written afresh in Python, torchvision's VGG11 with and without BatchNorm, and a Python fmnist-cnn.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tension/model/zoo/model.h"
#include "tension/model/zoo/state_dict.h"
#include "test_zoo_util.h"

namespace tension::testing {
namespace {

using model::Tap;

constexpr double kTol = 1e-4;

TEST(ZooInception, ShapesAt224) {
  auto m = zoo_model("inception-v1");
  const std::vector<std::pair<const char*, std::vector<int64_t>>> expected = {
      {"conv2d0", {1, 64, 112, 112}},
      {"maxpool0", {1, 64, 56, 56}},
      {"conv2d2", {1, 192, 56, 56}},
      {"maxpool1", {1, 192, 28, 28}},
      {"mixed3a", {1, 256, 28, 28}},
      {"mixed3b", {1, 480, 28, 28}},
      {"maxpool4", {1, 480, 14, 14}},
      {"mixed4a", {1, 508, 14, 14}},
      {"mixed4b", {1, 512, 14, 14}},
      {"mixed4c", {1, 512, 14, 14}},
      {"mixed4d", {1, 528, 14, 14}},
      {"mixed4e", {1, 832, 14, 14}},
      {"maxpool10", {1, 832, 7, 7}},
      {"mixed5a", {1, 832, 7, 7}},
      {"mixed5b", {1, 1024, 7, 7}},
      {"mixed3b_pre_relu", {1, 480, 28, 28}},
      {"mixed4a_3x3_pre_relu_conv", {1, 204, 14, 14}},
      {"avgpool0", {1, 1024, 1, 1}},
      {"softmax2_pre_activation_matmul", {1, 1008}},
  };
  std::vector<Tap> taps;
  for (const auto& e : expected) taps.push_back(model::parse_tap(e.first));
  auto r = m->run(example_input(*m), taps, run_options(true));
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(r.taps[i].sizes(), expected[i].second) << expected[i].first;
  EXPECT_EQ(r.output.sizes(), (std::vector<int64_t>{1, 1008}));
}

// Both forms of the fixture's state dict: the OrderedDict that Module.state_dict() returns, and a plain dict.
class ZooInceptionOracle : public ::testing::TestWithParam<const char*> {};

TEST_P(ZooInceptionOracle, MatchesPythonImplementation) {
  auto ref = zoo_ref("inception_v1_ref.pt");
  auto m = zoo_model("inception-v1", testdata(std::string("zoo/") + GetParam()));
  const std::vector<std::string> names = {"conv2d0",
                                          "localresponsenorm0",
                                          "conv2d2",
                                          "localresponsenorm1",
                                          "maxpool1",
                                          "mixed3a",
                                          "mixed3b_pre_relu",
                                          "mixed4a",
                                          "mixed4c_3x3_bottleneck",
                                          "mixed4d_pool_reduce_pre_relu_conv",
                                          "mixed4e_pre_relu",
                                          "maxpool10",
                                          "mixed5b",
                                          "softmax2_pre_activation_matmul"};
  std::vector<Tap> taps;
  for (const auto& n : names) taps.push_back({n});
  auto r = m->run(ref.at("input"), taps, run_options(true));
  EXPECT_LT(max_rel_err(r.output, ref.at("softmax2_pre_activation_matmul")), kTol);
  for (size_t i = 0; i < names.size(); ++i) EXPECT_LT(max_rel_err(r.taps[i], ref.at(names[i])), kTol) << names[i];
  // The logits are far from constant, so the comparison means something.
  EXPECT_GT(ref.at("softmax2_pre_activation_matmul").std().item<double>(), 0.1);
}

INSTANTIATE_TEST_SUITE_P(StateDictForms, ZooInceptionOracle,
                         ::testing::Values("inception_v1_ordered.pt", "inception_v1_dict.pt"));

TEST(ZooInception, OddSizedInputMatchesPython) {
  auto ref = zoo_ref("inception_v1_ref.pt");
  auto m = zoo_model("inception-v1", testdata("zoo/inception_v1_dict.pt"));
  const std::vector<std::string> names = {"maxpool1", "mixed3b_pre_relu", "mixed4a", "mixed5b"};
  std::vector<Tap> taps;
  for (const auto& n : names) taps.push_back({n});
  auto r = m->run(ref.at("odd_input"), taps);
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(r.taps[i].sizes(), ref.at("odd/" + names[i]).sizes()) << names[i];
    EXPECT_LT(max_rel_err(r.taps[i], ref.at("odd/" + names[i])), kTol) << names[i];
  }
}

TEST(ZooInception, GradientsMatchPython) {
  auto ref = zoo_ref("inception_v1_ref.pt");
  auto m = zoo_model("inception-v1", testdata("zoo/inception_v1_ordered.pt"));
  // In float64, as the reference: a max pool's near-tie in float32 is decided by the summation order.
  as_zoo(*m).module().to(torch::kDouble);
  auto x = ref.at("input").slice(0, 0, 1).to(torch::kDouble);
  auto r = m->run(x, taps_of({"mixed3a", "mixed3b_pre_relu", "mixed4d"}), run_options(true, true));
  auto unit = r.taps[1][0][379][14][14];
  auto g = torch::autograd::grad({unit}, {r.taps[0]}, {}, /*retain_graph=*/true)[0];
  EXPECT_LT(max_rel_err(g, ref.at("grad/mixed3b_pre_relu/mixed3a")), kTol);
  EXPECT_GT(g.ne(0).sum().item<int64_t>(), 0);
  auto g2 = torch::autograd::grad({r.output[0][5]}, {r.taps[2]})[0];
  EXPECT_LT(max_rel_err(g2, ref.at("grad/logit/mixed4d")), kTol);
}

// mixedXY_pre_relu is the concatenation of the four branch convs' outputs, mixedXY its ReLU, and a branch ReLU's
// input tap is its conv's output.
TEST(ZooInception, PreReluTapsAreBranchConvOutputs) {
  auto m = zoo_model("inception-v1", "", 4);
  auto r = m->run(example_input(*m, 1, 96),
                  taps_of({"mixed3b_1x1_pre_relu_conv", "mixed3b_3x3_pre_relu_conv", "mixed3b_5x5_pre_relu_conv",
                           "mixed3b_pool_reduce_pre_relu_conv", "mixed3b_pre_relu", "mixed3b", "mixed3b_5x5:in",
                           "mixed3b_5x5", "mixed3b:in", "mixed3a"}));
  auto cat = torch::cat({r.taps[0], r.taps[1], r.taps[2], r.taps[3]}, 1);
  EXPECT_TRUE(r.taps[4].equal(cat));
  EXPECT_TRUE(r.taps[5].equal(torch::relu(cat)));
  EXPECT_TRUE(r.taps[6].equal(r.taps[2]));
  EXPECT_TRUE(r.taps[7].equal(torch::relu(r.taps[2])));
  EXPECT_TRUE(r.taps[8].equal(r.taps[9]));
  EXPECT_TRUE((r.taps[4] < 0).any().item<bool>()) << "pre-ReLU values have both signs";
}

std::vector<std::pair<std::string, std::vector<int64_t>>> read_shapes(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error("cannot read " + path);
  std::vector<std::pair<std::string, std::vector<int64_t>>> out;
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream s(line);
    std::pair<std::string, std::vector<int64_t>> e;
    s >> e.first;
    for (int64_t d; s >> d;) e.second.push_back(d);
    out.push_back(e);
  }
  return out;
}

class ZooVgg : public ::testing::TestWithParam<bool> {
 protected:
  std::string stem() const { return GetParam() ? "vgg11_bn" : "vgg11"; }
  std::string zoo_name() const { return GetParam() ? "vgg11-bn" : "vgg11"; }
};

// The full-size model has torchvision's keys, shapes and order, and 1000 logits.
TEST_P(ZooVgg, FullSizeStateDictIsTorchvisions) {
  auto m = zoo_model(zoo_name());
  auto expected = read_shapes(testdata("zoo/" + stem() + "_shapes.txt"));
  auto own = model::state_dict(as_zoo(*m).module());
  ASSERT_EQ(own.size(), expected.size());
  for (size_t i = 0; i < own.size(); ++i) {
    EXPECT_EQ(own[i].first, expected[i].first);
    EXPECT_EQ(own[i].second.sizes(), expected[i].second) << own[i].first;
  }
  auto r = m->run(example_input(*m, 1, 32), {}, run_options(true));
  EXPECT_EQ(r.output.sizes(), (std::vector<int64_t>{1, 1000}));
}

// torchvision's weights (with a narrow classifier, to keep the file small) give torchvision's logits and
// activations, at 224 and at 80 (where the adaptive pool really pools).
TEST_P(ZooVgg, MatchesTorchvision) {
  model::ZooOptions opt;
  opt.weights = testdata("zoo/" + stem() + "_narrow.pt");
  model::NativeZooModel m(zoo_name(), model::make_vgg11(GetParam(), 64, 10), opt);
  auto ref = zoo_ref(stem() + "_ref.pt");
  auto taps = taps_of({"features.0", "features.2", "features.12", "avgpool", "classifier.0", "classifier.4"});
  for (std::string prefix : {"", "small/"}) {
    SCOPED_TRACE(prefix);
    auto r = m.run(ref.at(prefix + "input"), taps, run_options(true));
    EXPECT_LT(max_rel_err(r.output, ref.at(prefix + "logits")), kTol);
    for (size_t i = 0; i < taps.size(); ++i) {
      EXPECT_LT(max_rel_err(r.taps[i], ref.at(prefix + taps[i].layer)), kTol) << taps[i].layer;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(BatchNorm, ZooVgg, ::testing::Bool());

class ZooFmnist : public ::testing::TestWithParam<bool> {};

TEST_P(ZooFmnist, MatchesPythonMirrorAtEveryLayer) {
  std::string stem = GetParam() ? "fmnist_cnn_bn" : "fmnist_cnn";
  auto m = zoo_model(GetParam() ? "fmnist-cnn-bn" : "fmnist-cnn", testdata("zoo/" + stem + ".pt"));
  auto ref = zoo_ref(stem + "_ref.pt");
  std::vector<Tap> taps;
  for (const auto& l : m->layers()) taps.push_back({l.name});
  auto r = m->run(ref.at("input"), taps, run_options(true));
  for (size_t i = 0; i < taps.size(); ++i) {
    EXPECT_LT(max_rel_err(r.taps[i], ref.at(taps[i].layer)), 1e-5) << taps[i].layer;
  }
  EXPECT_TRUE(r.output.equal(r.taps.back()));
}

INSTANTIATE_TEST_SUITE_P(BatchNorm, ZooFmnist, ::testing::Bool());

}  // namespace
}  // namespace tension::testing
