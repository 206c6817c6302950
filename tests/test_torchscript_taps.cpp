// The TorchScript frontend against the Python oracle (tests/python/fixture_torchvision.py): torchvision GoogLeNet,
// VGG11 and ResNet18, traced and scripted, give the same activations and gradients at named taps as Python
// forward hooks, including taps that the model later overwrites in place; plus the error paths.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <fstream>
#include <iterator>
#include <string>
#include <unordered_set>
#include <vector>

#include "tension/core/error.h"
#include "tension/model/torchscript/model.h"
#include "testing.h"

namespace tension::model {
namespace {

using tension::testing::error_of;
using tension::testing::max_rel_err;
using tension::testing::testdata;

constexpr double kTol = 1e-5;

const nlohmann::json& meta() {
  static const nlohmann::json m = nlohmann::json::parse(std::ifstream(testdata("ts_torchvision_meta.json")));
  return m;
}

torch::Tensor reference(const std::string& key) {
  static const c10::Dict<c10::IValue, c10::IValue> refs = [] {
    std::ifstream in(testdata("ts_torchvision_ref.pt"), std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return torch::pickle_load(bytes).toGenericDict();
  }();
  auto it = refs.find(key);
  if (it == refs.end()) throw std::runtime_error("no reference tensor " + key);
  return it->value().toTensor();
}

RunOptions opts(bool want_output, bool differentiable) {
  RunOptions o;
  o.want_output = want_output;
  o.differentiable = differentiable;
  return o;
}

std::unique_ptr<Model> load(const std::string& file) { return load_torchscript(testdata(file), InputSpec{}); }

std::vector<Tap> parse_taps(const nlohmann::json& names) {
  std::vector<Tap> taps;
  for (const auto& n : names) taps.push_back(parse_tap(n.get<std::string>()));
  return taps;
}

// Counts the leaves that autograd would accumulate gradients into, reachable from t.
size_t grad_leaves(const torch::Tensor& t) {
  std::vector<torch::autograd::Node*> todo{t.grad_fn().get()};
  std::unordered_set<torch::autograd::Node*> seen;
  size_t leaves = 0;
  while (!todo.empty()) {
    torch::autograd::Node* n = todo.back();
    todo.pop_back();
    if (!n || !seen.insert(n).second) continue;
    if (n->name().find("AccumulateGrad") != std::string::npos) ++leaves;
    for (const auto& e : n->next_edges()) todo.push_back(e.function.get());
  }
  return leaves;
}

// One exported model: (architecture, "traced" | "scripted").
class TorchvisionOracle : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {
 protected:
  void SetUp() override {
    arch_ = std::get<0>(GetParam());
    info_ = meta()["models"][arch_];
    model_ = load(info_["files"][std::get<1>(GetParam())].get<std::string>());
  }
  // f = sum over the batch of the unit's channel at the centre of its layer.
  torch::Tensor unit_value(const torch::Tensor& layer) const {
    int64_t c = info_["unit"][1].get<int64_t>();
    return layer.select(1, c).select(1, layer.size(2) / 2).select(1, layer.size(3) / 2).sum();
  }
  std::string arch_;
  nlohmann::json info_;
  std::unique_ptr<Model> model_;
};

// Layers: the modules in the order Python's forward pre-hooks first fire, with their class names.
TEST_P(TorchvisionOracle, DescribesItself) {
  const auto& expected = info_["layers"];
  ASSERT_EQ(model_->layers().size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(model_->layers()[i].name, expected[i][0].get<std::string>()) << "layer " << i;
    EXPECT_EQ(model_->layers()[i].kind, expected[i][1].get<std::string>()) << "layer " << i;
  }
  std::string file = info_["files"][std::get<1>(GetParam())].get<std::string>();
  EXPECT_EQ(model_->weights_id(), meta()["sha256"][file].get<std::string>());
  EXPECT_EQ(model_->name(), file);
  EXPECT_FALSE(model_->input_spec().fixed_size);
  EXPECT_EQ(model_->device(), torch::Device(torch::kCPU));
}

TEST_P(TorchvisionOracle, ActivationsMatchPythonHooks) {
  auto taps = parse_taps(info_["taps"]);
  auto r = model_->run(reference("x"), taps, opts(true, false));
  ASSERT_EQ(r.taps.size(), taps.size());
  EXPECT_FALSE(r.input.requires_grad());
  EXPECT_LT(max_rel_err(r.output, reference(arch_ + "/output")), kTol);
  for (size_t i = 0; i < taps.size(); ++i) {
    EXPECT_LT(max_rel_err(r.taps[i], reference(arch_ + "/" + taps[i].str())), kTol) << taps[i].str();
  }
}

// Also a regression test for the executor: the profiling one loses gradients w.r.t. intermediates from the
// second call on.
TEST_P(TorchvisionOracle, GradientsMatchPythonHooksOnEveryCall) {
  auto sources = parse_taps(info_["sources"]);
  auto taps = sources;
  taps.push_back(parse_tap(info_["unit"][0].get<std::string>()));
  for (int call = 1; call <= 3; ++call) {
    auto r = model_->run(reference("x"), taps, opts(false, true));
    std::vector<torch::Tensor> wrt(r.taps.begin(), r.taps.end() - 1);
    auto grads = torch::autograd::grad({unit_value(r.taps.back())}, wrt);
    for (size_t i = 0; i < sources.size(); ++i) {
      EXPECT_LT(max_rel_err(grads[i], reference(arch_ + "/grad/" + sources[i].str())), kTol)
          << sources[i].str() << ", call " << call;
    }
  }
}

TEST_P(TorchvisionOracle, ParametersAreFrozenOnlyTheInputIsALeaf) {
  auto unit = parse_tap(info_["unit"][0].get<std::string>());
  auto r = model_->run(reference("x"), {unit}, opts(true, true));
  EXPECT_TRUE(r.input.requires_grad());
  EXPECT_EQ(grad_leaves(r.taps[0]), 1u);
  EXPECT_EQ(grad_leaves(r.output), 1u);
}

TEST_P(TorchvisionOracle, TruncatedRunEqualsFullRun) {
  auto taps = parse_taps(info_["taps"]);
  auto full = model_->run(reference("x"), taps, opts(true, false));
  auto cut = model_->run(reference("x"), taps, opts(false, false));
  EXPECT_FALSE(cut.output.defined());
  for (size_t i = 0; i < taps.size(); ++i) EXPECT_TRUE(torch::equal(cut.taps[i], full.taps[i])) << taps[i].str();
}

INSTANTIATE_TEST_SUITE_P(torchscript, TorchvisionOracle,
                         ::testing::Combine(::testing::Values("googlenet", "vgg11", "resnet18"),
                                            ::testing::Values("traced", "scripted")),
                         [](const auto& info) { return std::get<0>(info.param) + "_" + std::get<1>(info.param); });

class TorchvisionExport : public ::testing::TestWithParam<std::string> {};

// features.4 is an in-place ReLU: its input (the output of conv features.3) must be the true pre-activation.
TEST_P(TorchvisionExport, PreActivationBehindInPlaceReluKeepsItsSign) {
  auto model = load("ts_vgg11_" + GetParam() + ".pt");
  auto r = model->run(reference("x"), {parse_tap("features.4:in")});
  EXPECT_LT(r.taps[0].min().item<float>(), -0.1f);
  EXPECT_LT(max_rel_err(r.taps[0], reference("vgg11/features.4:in")), kTol);
}

// On an 8x8 input GoogLeNet's maxpool3 has nothing left to pool: the full forward fails, a run that stops at
// inception3b does not. In the scripted model the BatchNorms after maxpool3 check their input's rank, which
// dead-code elimination alone would keep, with everything before it.
TEST_P(TorchvisionExport, TruncationReallyStopsTheForward) {
  auto model = load("ts_googlenet_" + GetParam() + ".pt");
  auto tiny = torch::randn({1, 3, 8, 8});
  auto cut = model->run(tiny, {parse_tap("inception3b")});
  EXPECT_EQ(cut.taps[0].sizes(), (std::vector<int64_t>{1, 480, 1, 1}));
  std::string msg = error_of([&] { model->run(tiny, {parse_tap("inception3b")}, opts(true, false)); });
  EXPECT_NE(msg.find("ts_googlenet_" + GetParam()), std::string::npos) << msg;
  EXPECT_NE(msg.find("[1, 3, 8, 8]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Output size is too small"), std::string::npos) << msg;
}

TEST_P(TorchvisionExport, SecondCallOfAModuleIsAddressable) {
  auto model = load("ts_resnet18_" + GetParam() + ".pt");
  auto r = model->run(reference("x"), {parse_tap("layer1.0.relu#1:in"), parse_tap("layer1.0.relu:in")});
  EXPECT_LT(max_rel_err(r.taps[0], reference("resnet18/layer1.0.relu#1:in")), kTol);
  EXPECT_FALSE(torch::allclose(r.taps[0], r.taps[1]));  // the first call's input is another tensor
  std::string msg = error_of([&] { model->run(reference("x"), {parse_tap("layer1.0.relu#2")}); });
  EXPECT_NE(msg.find("called 2 time(s)"), std::string::npos) << msg;
  msg = error_of([&] { model->run(reference("x"), {parse_tap("layer1.0.relu#x")}); });
  EXPECT_NE(msg.find("bad call index"), std::string::npos) << msg;
}

TEST_P(TorchvisionExport, RepeatedTapsComeBackInRequestOrder) {
  auto model = load("ts_googlenet_" + GetParam() + ".pt");
  auto r = model->run(reference("x"), {parse_tap("inception3b"), parse_tap("conv1"), parse_tap("inception3b")});
  ASSERT_EQ(r.taps.size(), 3u);
  EXPECT_LT(max_rel_err(r.taps[0], reference("googlenet/inception3b")), kTol);
  EXPECT_LT(max_rel_err(r.taps[1], reference("googlenet/conv1")), kTol);
  EXPECT_TRUE(torch::equal(r.taps[0], r.taps[2]));
}

// The part of the network after a tap, fed that tap's value, gives the later taps and their gradients with
// respect to the tap exactly as the full run does; the caller's tensor survives the in-place ReLU after vgg's
// features.3, and googlenet's Inception blocks and resnet's residual blocks can be cut between them.
TEST_P(TorchvisionExport, RunFromALayerEqualsTheFullRun) {
  struct Case {
    std::string arch, source;
    std::vector<std::string> later;
  };
  for (const Case& c : {Case{"googlenet", "inception3a", {"inception3b", "maxpool3"}},
                        Case{"vgg11", "features.3", {"features.4", "features.8"}},
                        Case{"resnet18", "layer1", {"layer2.0.conv1", "layer2"}}}) {
    SCOPED_TRACE(c.arch);
    auto model = load("ts_" + c.arch + "_" + GetParam() + ".pt");
    std::vector<Tap> taps{parse_tap(c.source)};
    for (const auto& l : c.later) taps.push_back(parse_tap(l));
    auto full = model->run(reference("x"), taps, opts(false, true));
    auto h = full.taps[0].detach().clone();
    const auto h_before = h.clone();
    auto part = model->run_from(taps[0], h, {taps.begin() + 1, taps.end()}, opts(false, true));
    ASSERT_EQ(part.taps.size(), c.later.size());
    for (size_t i = 0; i < c.later.size(); ++i) {
      EXPECT_LT(max_rel_err(part.taps[i], full.taps[i + 1]), kTol) << c.later[i];
    }
    EXPECT_TRUE(torch::equal(h, h_before)) << "run_from changed the caller's tensor";
    auto unit = [](const torch::Tensor& t) {
      return t.select(1, 3).select(1, t.size(2) / 2).select(1, t.size(3) / 2).sum();
    };
    auto g_full = torch::autograd::grad({unit(full.taps.back())}, {full.taps[0]})[0];
    auto g_part = torch::autograd::grad({unit(part.taps.back())}, {part.input})[0];
    EXPECT_GT(g_full.abs().sum().item<double>(), 0.0);
    EXPECT_LT(max_rel_err(g_part, g_full), kTol);
  }
}

TEST_P(TorchvisionExport, RunFromWhereTheCutIsNotCleanIsAClearError) {
  auto resnet = load("ts_resnet18_" + GetParam() + ".pt");
  auto h = resnet->run(reference("x"), {parse_tap("layer1.0.conv1")}).taps[0];
  // Up to conv2 nothing but conv1's output is read; the block's output also adds the block's input.
  EXPECT_NO_THROW(resnet->run_from(parse_tap("layer1.0.conv1"), h, {parse_tap("layer1.0.conv2")}));
  std::string msg = error_of([&] { resnet->run_from(parse_tap("layer1.0.conv1"), h, {parse_tap("layer1.0")}); });
  EXPECT_NE(msg.find("skip connection"), std::string::npos) << msg;

  auto googlenet = load("ts_googlenet_" + GetParam() + ".pt");
  auto b1 = googlenet->run(reference("x"), {parse_tap("inception3a.branch1")}).taps[0];
  msg = error_of([&] { googlenet->run_from(parse_tap("inception3a.branch1"), b1, {parse_tap("inception3b")}); });
  EXPECT_NE(msg.find("inception3a.branch1"), std::string::npos) << msg;
  msg = error_of([&] { googlenet->run_from(parse_tap("inception3b"), b1, {parse_tap("inception3a")}); });
  EXPECT_NE(msg.find("does not come after"), std::string::npos) << msg;
}

TEST_P(TorchvisionExport, UnknownLayerListsTheValidOnes) {
  auto model = load("ts_googlenet_" + GetParam() + ".pt");
  std::string msg = error_of([&] { model->run(reference("x"), {parse_tap("inception9z")}); });
  EXPECT_NE(msg.find("unknown layer 'inception9z'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("inception3a.branch2.1.conv"), std::string::npos) << msg;
}

TEST_P(TorchvisionExport, WrongInputShapeIsAClearError) {
  auto model = load("ts_resnet18_" + GetParam() + ".pt");
  std::string msg = error_of([&] { model->run(torch::randn({2, 1, 32, 32}), {parse_tap("layer1")}); });
  EXPECT_NE(msg.find("[2, 1, 32, 32]"), std::string::npos) << msg;
  msg = error_of([&] { model->run(torch::randn({3, 32, 32}), {parse_tap("layer1")}); });
  EXPECT_NE(msg.find("[3, 32, 32]"), std::string::npos) << msg;
}

INSTANTIATE_TEST_SUITE_P(torchscript, TorchvisionExport, ::testing::Values("traced", "scripted"),
                         [](const auto& info) { return info.param; });

TEST(torchscript, LayerCalledInALoopIsRefusedOthersWork) {
  auto model = load("ts_loop_toy_scripted.pt");
  std::vector<std::string> names;
  for (const auto& l : model->layers()) names.push_back(l.name);
  EXPECT_EQ(names, (std::vector<std::string>{"conv", "act", "b"}));
  std::string msg = error_of([&] { model->run(reference("x"), {parse_tap("b")}); });
  EXPECT_NE(msg.find("tap inside control flow not supported"), std::string::npos) << msg;
  auto r = model->run(reference("x"), {parse_tap("act")}, opts(true, false));
  EXPECT_LT(max_rel_err(r.taps[0], reference("loop_toy/act")), kTol);
  EXPECT_LT(max_rel_err(r.output, reference("loop_toy/output")), kTol);
  msg = error_of([&] { model->run(reference("x"), {parse_tap("unused")}); });
  EXPECT_NE(msg.find("never called"), std::string::npos) << msg;
}

TEST(torchscript, TapOverwrittenThroughAViewIsRefused) {
  auto model = load("ts_view_toy_scripted.pt");
  std::string msg = error_of([&] { model->run(reference("x"), {parse_tap("act:in")}); });
  EXPECT_NE(msg.find("through a view"), std::string::npos) << msg;
  auto r = model->run(reference("x"), {parse_tap("conv")}, opts(true, false));
  EXPECT_LT(max_rel_err(r.taps[0], reference("view_toy/conv")), kTol);
  EXPECT_LT(max_rel_err(r.output, reference("view_toy/output")), kTol);
}

TEST(torchscript, MissingFileIsAClearError) {
  std::string msg = error_of([] { load("no_such_model.pt"); });
  EXPECT_NE(msg.find("not found"), std::string::npos) << msg;
}

TEST(torchscript, CorruptFileIsAClearError) {
  std::string path = tension::testing::temp_dir("ts_corrupt") + "/corrupt.pt";
  std::ofstream(path) << "this is not a zip archive";
  std::string msg = error_of([&] { load_torchscript(path, InputSpec{}); });
  EXPECT_NE(msg.find("not a TorchScript archive"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

TEST(torchscript, FrozenModelIsAClearError) {
  std::string msg = error_of([] { load("ts_frozen.pt"); });
  EXPECT_NE(msg.find("frozen"), std::string::npos) << msg;
}

}  // namespace
}  // namespace tension::model
