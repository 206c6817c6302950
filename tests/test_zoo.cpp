// The native zoo's contract: layers in execution order with both taps, truncation, errors, grad modes, true
// gradients (finite differences, analytic cases) and training through module().
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "tension/core/error.h"
#include "tension/model/zoo/net.h"
#include "test_zoo_util.h"

namespace tension::testing {
namespace {

using model::Tap;
using model::TapSide;

std::vector<std::string> layer_names(const model::Model& m) {
  std::vector<std::string> names;
  for (const auto& l : m.layers()) names.push_back(l.name);
  return names;
}

model::ZooNet& net_of(model::Model& m) { return dynamic_cast<model::ZooNet&>(as_zoo(m).module()); }

// VGG runs at any size from 32; everything else at its own size.
torch::Tensor input_for(const model::Model& m) { return example_input(m, 1, m.name().rfind("vgg", 0) == 0 ? 64 : 0); }

TEST(Zoo, NamesAndUnknownName) {
  auto names = model::zoo_model_names();
  for (const char* n :
       {"fmnist-cnn", "fmnist-cnn-bn", "inception-v1", "vgg11", "vgg11-bn", "toy-mlp", "toy-mlp-nobias"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  }
  EXPECT_EQ(model::make_zoo_model("resnet-9000", {}), nullptr);
}

// layers() is what the forward reports, in the order it computes them, and every layer's input and output
// can be tapped.
TEST(Zoo, EveryModelListsItsLayersInExecutionOrderWithBothTaps) {
  for (const auto& name : model::zoo_model_names()) {
    SCOPED_TRACE(name);
    auto m = zoo_model(name);
    auto names = layer_names(*m);
    EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size()) << "duplicate layer names";
    for (const auto& l : m->layers()) EXPECT_FALSE(l.kind.empty()) << l.name;
    auto x = input_for(*m);

    model::TapRecorder rec({}, /*want_output=*/true);
    torch::Tensor out;
    {
      torch::NoGradGuard no_grad;
      out = net_of(*m).forward(x, rec);
    }
    EXPECT_EQ(rec.out_order(), names);

    std::vector<Tap> all;
    for (const auto& n : names) {
      all.push_back({n, TapSide::Input});
      all.push_back({n, TapSide::Output});
    }
    auto r = m->run(x, all, run_options(true));
    ASSERT_EQ(r.taps.size(), all.size());
    for (size_t i = 0; i < all.size(); ++i) EXPECT_TRUE(r.taps[i].defined()) << all[i].str();
    EXPECT_TRUE(r.output.equal(out));
    EXPECT_TRUE(r.taps.back().equal(out)) << "the last layer's output is the model output";
  }
}

TEST(Zoo, LayerKindsAndChainedTaps) {
  auto m = zoo_model("fmnist-cnn-bn");
  std::vector<std::string> expected = {"conv1", "bn1",   "relu1", "conv2",   "bn2", "relu2", "pool1", "conv3",
                                       "bn3",   "relu3", "pool2", "flatten", "fc1", "bn4",   "relu4", "fc2"};
  EXPECT_EQ(layer_names(*m), expected);
  EXPECT_EQ(m->layers()[0].kind, "Conv2d");
  EXPECT_EQ(m->layers()[1].kind, "BatchNorm2d");
  EXPECT_EQ(m->layers()[2].kind, "ReLU");
  EXPECT_EQ(m->layers()[13].kind, "BatchNorm1d");
  // In a chain, a layer's input tap is the previous layer's output.
  std::vector<Tap> taps;
  for (size_t i = 1; i < expected.size(); ++i) taps.push_back({expected[i], TapSide::Input});
  for (size_t i = 0; i + 1 < expected.size(); ++i) taps.push_back({expected[i], TapSide::Output});
  auto r = m->run(example_input(*m, 2), taps);
  size_t n = expected.size() - 1;
  for (size_t i = 0; i < n; ++i) EXPECT_TRUE(r.taps[i].equal(r.taps[n + i])) << expected[i + 1];

  auto inc = zoo_model("inception-v1");
  auto kind = [&](const std::string& layer) {
    for (const auto& l : inc->layers()) {
      if (l.name == layer) return l.kind;
    }
    return std::string("missing");
  };
  EXPECT_EQ(kind("conv2d0_pre_relu_conv"), "Conv2d");
  EXPECT_EQ(kind("conv2d0"), "ReLU");
  EXPECT_EQ(kind("localresponsenorm1"), "LocalResponseNorm");
  EXPECT_EQ(kind("mixed4a_pool"), "MaxPool2d");
  EXPECT_EQ(kind("mixed4a"), "Inception");
  EXPECT_EQ(kind("mixed4a_pre_relu"), "InceptionPreReLU");
  EXPECT_EQ(kind("softmax2_pre_activation_matmul"), "Linear");
}

// A truncated run gives the same tensors as a full one, and stops right after the last requested tap: an
// output tap is the last layer computed, an input tap's layer is not computed at all.
TEST(Zoo, TruncatedRunsMatchFullRunsAndStopEarly) {
  for (const char* name : {"fmnist-cnn-bn", "toy-mlp", "vgg11-bn", "inception-v1"}) {
    SCOPED_TRACE(name);
    auto m = zoo_model(name);
    auto names = layer_names(*m);
    auto x = input_for(*m);
    std::vector<Tap> taps;
    size_t stride = names.size() > 60 ? 9 : 1;
    for (size_t i = 0; i < names.size(); i += stride) {
      taps.push_back({names[i], TapSide::Input});
      taps.push_back({names[i], TapSide::Output});
    }
    auto full = m->run(x, taps, run_options(true));
    for (size_t k = 0; k < taps.size(); ++k) {
      const auto& t = taps[k];
      auto r = m->run(x, {t});
      EXPECT_FALSE(r.output.defined());
      ASSERT_EQ(r.taps.size(), 1u);
      EXPECT_TRUE(r.taps[0].equal(full.taps[k])) << t.str();

      model::TapRecorder rec({t}, /*want_output=*/false);
      torch::NoGradGuard no_grad;
      EXPECT_FALSE(net_of(*m).forward(x, rec).defined());
      const auto& order = rec.out_order();
      if (t.side == TapSide::Output) {
        ASSERT_FALSE(order.empty());
        EXPECT_EQ(order.back(), t.layer);
      } else {
        EXPECT_EQ(std::find(order.begin(), order.end(), t.layer), order.end()) << t.str() << " was computed";
      }
    }
  }
}

// Chains run from any layer (the attribution engine's layer windows): from every tap, the later taps and the
// output equal those of the full forward, and so do their gradients with respect to the tap; the gradient flows
// to the fed tensor. InceptionV1's branches cannot be cut at a layer: a clear error.
TEST(Zoo, ChainsRunFromAnyLayerAsTheFullForward) {
  for (const char* name : {"fmnist-cnn-bn", "toy-mlp", "vgg11"}) {
    SCOPED_TRACE(name);
    auto m = zoo_model(name);
    auto names = layer_names(*m);
    auto x = input_for(*m);
    std::vector<Tap> taps;
    for (const auto& n : names) {
      taps.push_back({n, TapSide::Input});
      taps.push_back({n, TapSide::Output});
    }
    auto full = m->run(x, taps, run_options(true, true));
    for (size_t s = 0; s + 1 < taps.size(); ++s) {
      const std::vector<Tap> later(taps.begin() + static_cast<std::ptrdiff_t>(s) + 1, taps.end());
      auto part = m->run_from(taps[s], full.taps[s].detach(), later, run_options(true, true));
      ASSERT_EQ(part.taps.size(), later.size()) << taps[s].str();
      for (size_t k = 0; k < later.size(); ++k) {
        EXPECT_TRUE(torch::allclose(part.taps[k], full.taps[s + 1 + k], 1e-6, 1e-6)) << taps[s].str() << " -> "
                                                                                     << later[k].str();
      }
      EXPECT_TRUE(torch::allclose(part.output, full.output, 1e-6, 1e-6)) << taps[s].str();
      auto g = torch::autograd::grad({part.output.sum()}, {part.input})[0];
      auto g_full = torch::autograd::grad({full.output.sum()}, {full.taps[s]}, {}, true)[0];
      EXPECT_TRUE(torch::allclose(g, g_full, 1e-5, 1e-6)) << "gradient at " << taps[s].str();
    }
    auto msg = error_of([&] { m->run_from(taps[4], full.taps[4], {taps[2]}); });
    EXPECT_NE(msg.find("does not come after"), std::string::npos) << msg;
  }
  auto inception = zoo_model("inception-v1");
  auto h = torch::rand({1, 192, 28, 28});
  auto msg = error_of([&] { inception->run_from({"maxpool1", TapSide::Output}, h, {{"mixed3a", TapSide::Output}}); });
  EXPECT_NE(msg.find("cannot run from an intermediate layer"), std::string::npos) << msg;
}

TEST(Zoo, TapsComeBackInRequestOrderWithRepeats) {
  auto m = zoo_model("fmnist-cnn");
  auto x = example_input(*m, 2);
  auto r = m->run(x, taps_of({"relu3", "conv1", "relu3", "fc1:in"}));
  ASSERT_EQ(r.taps.size(), 4u);
  EXPECT_EQ(r.taps[0].sizes(), (std::vector<int64_t>{2, 64, 14, 14}));
  EXPECT_EQ(r.taps[1].sizes(), (std::vector<int64_t>{2, 32, 28, 28}));
  EXPECT_TRUE(r.taps[2].equal(r.taps[0]));
  EXPECT_EQ(r.taps[3].sizes(), (std::vector<int64_t>{2, 64 * 7 * 7}));
  EXPECT_TRUE(m->run(x, {}).taps.empty());
}

TEST(Zoo, RunErrorsAreClear) {
  auto m = zoo_model("fmnist-cnn");
  auto x = example_input(*m);
  auto msg = error_of([&] { m->run(x, taps_of({"conv9"})); });
  EXPECT_NE(msg.find("unknown layer 'conv9'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("relu3"), std::string::npos) << "lists the valid layers: " << msg;
  msg = error_of([&] { m->run(x, taps_of({"conv1", "pool9:in"})); });
  EXPECT_NE(msg.find("unknown layer 'pool9'"), std::string::npos) << msg;

  msg = error_of([&] { m->run(torch::rand({1, 3, 28, 28}), {}, run_options(true)); });
  EXPECT_NE(msg.find("[N, 1, 28, 28]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[1, 3, 28, 28]"), std::string::npos) << msg;
  msg = error_of([&] { m->run(torch::rand({1, 1, 32, 32}), {}, run_options(true)); });
  EXPECT_NE(msg.find("[1, 1, 32, 32]"), std::string::npos) << msg;
  msg = error_of([&] { m->run(torch::rand({1, 28, 28}), {}, run_options(true)); });
  EXPECT_NE(msg.find("[1, 28, 28]"), std::string::npos) << msg;
  msg = error_of([&] { m->run(torch::ones({1, 1, 28, 28}, torch::kLong), {}, run_options(true)); });
  EXPECT_NE(msg.find("floating-point"), std::string::npos) << msg;

  auto inc = zoo_model("inception-v1");
  msg = error_of([&] { inc->run(torch::rand({1, 1, 224, 224}), {}, run_options(true)); });
  EXPECT_NE(msg.find("[N, 3, H, W]"), std::string::npos) << msg;
  auto small = example_input(*inc, 1, 160);
  msg = error_of([&] { inc->run(small, {}, run_options(true)); });
  EXPECT_NE(msg.find("needs mixed5b at 7x7"), std::string::npos) << msg;
  EXPECT_NE(msg.find("5x5"), std::string::npos) << msg;
  auto r = inc->run(small, taps_of({"mixed4a"}));  // taps before the head run at other sizes
  EXPECT_EQ(r.taps[0].sizes(), (std::vector<int64_t>{1, 508, 10, 10}));
}

TEST(Zoo, GradModeFrozenParametersAndInput) {
  auto m = zoo_model("fmnist-cnn");
  for (const auto& p : as_zoo(*m).module().parameters()) EXPECT_FALSE(p.requires_grad());
  EXPECT_FALSE(as_zoo(*m).module().is_training());
  auto x = example_input(*m);

  auto plain = m->run(x, taps_of({"relu2"}), run_options(true));
  EXPECT_FALSE(plain.taps[0].requires_grad());
  EXPECT_FALSE(plain.output.requires_grad());

  auto r = m->run(x, taps_of({"relu1", "relu2"}), run_options(true, true));
  ASSERT_TRUE(r.input.requires_grad());
  EXPECT_TRUE(r.input.equal(x));
  EXPECT_FALSE(x.requires_grad()) << "the caller's tensor is left alone";
  EXPECT_TRUE(r.output.equal(plain.output));
  auto g = torch::autograd::grad({r.output[0][3]}, {r.taps[0], r.input});
  EXPECT_TRUE(g[0].defined() && g[1].defined());
  for (const auto& p : as_zoo(*m).module().parameters()) EXPECT_FALSE(p.grad().defined());
}

// What a trainer does: unfreeze, train(), run differentiably; gradients reach every parameter, BatchNorm uses
// batch statistics, and run() leaves the mode alone.
TEST(Zoo, TrainerCanUnfreezeAndTrain) {
  auto m = zoo_model("fmnist-cnn-bn");
  auto& mod = as_zoo(*m).module();
  auto x = example_input(*m, 8);
  auto eval_out = m->run(x, {}, run_options(true)).output;
  for (auto& p : mod.parameters()) p.requires_grad_(true);
  mod.train();
  auto r = m->run(x, {}, run_options(true, true));
  EXPECT_TRUE(mod.is_training());
  EXPECT_FALSE(r.output.allclose(eval_out)) << "train mode should use batch statistics";
  torch::nn::functional::cross_entropy(r.output, torch::arange(8) % 10).backward();
  for (const auto& p : mod.named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0) << p.key();
  }
}

// sum(grad * activation) over any layer equals the output unit exactly for a bias-free ReLU net; with biases
// it does not (so the check can fail).
TEST(Zoo, ToyMlpNobiasIsComplete) {
  auto taps = taps_of({"flatten", "fc1", "relu1", "fc2", "relu2", "fc1:in", "fc3:in"});
  for (const char* name : {"toy-mlp-nobias", "toy-mlp"}) {
    SCOPED_TRACE(name);
    auto m = zoo_model(name, "", 3);
    auto x = example_input(*m, 1, 0, 4);
    auto r = m->run(x, taps, run_options(true, true));
    double worst = 0;
    for (int64_t k = 0; k < 4; ++k) {
      auto f = r.output[0][k];
      ASSERT_GT(std::abs(f.item<double>()), 1e-3);
      for (size_t i = 0; i < taps.size(); ++i) {
        auto g = torch::autograd::grad({f}, {r.taps[i]}, {}, /*retain_graph=*/true)[0];
        double s = (g * r.taps[i]).sum().item<double>();
        worst = std::max(worst, std::abs(s - f.item<double>()) / std::abs(f.item<double>()));
      }
    }
    if (std::string(name) == "toy-mlp-nobias") {
      EXPECT_LT(worst, 1e-5);
    } else {
      EXPECT_GT(worst, 1e-2) << "biases break completeness";
    }
  }
}

// The gradient of fc3 w.r.t. relu1 is W3 diag(fc2 > 0) W2, computed here from the parameters alone.
TEST(Zoo, ToyMlpGradientMatchesAnalytic) {
  auto m = zoo_model("toy-mlp", "", 5);
  auto r = m->run(example_input(*m, 1, 0, 6), taps_of({"relu1", "fc2"}), run_options(true, true));
  auto params = as_zoo(*m).module().named_parameters();
  auto w2 = params["fc2.weight"], w3 = params["fc3.weight"];
  auto mask = (r.taps[1][0] > 0).to(torch::kFloat);
  auto analytic = torch::matmul(w3 * mask.unsqueeze(0), w2);  // [4, 32]
  for (int64_t k = 0; k < 4; ++k) {
    auto g = torch::autograd::grad({r.output[0][k]}, {r.taps[0]}, {}, true)[0][0];
    EXPECT_LT(max_rel_err(g, analytic[k]), 1e-6) << k;
  }
}

// Directional derivatives in double precision: <grad_x f, d> and <grad_h f, J_h d> (an intermediate tap h)
// both equal the central difference of f along d.
// f is the sum of channel `channel` of f_tap.
void expect_gradients_match_finite_differences(model::Model& m, const torch::Tensor& x, const Tap& h_tap,
                                               const Tap& f_tap, int64_t channel) {
  auto unit = [&](const torch::Tensor& t) { return t.select(1, channel).sum(); };
  auto r = m.run(x, {h_tap, f_tap}, run_options(false, true));
  auto f = unit(r.taps[1]);
  auto g = torch::autograd::grad({f}, {r.taps[0], r.input});
  torch::manual_seed(9);
  auto d = torch::randn_like(x);
  const double eps = 1e-6;
  auto plus = m.run(x + eps * d, {h_tap, f_tap});
  auto minus = m.run(x - eps * d, {h_tap, f_tap});
  double fd = (unit(plus.taps[1]) - unit(minus.taps[1])).item<double>() / (2 * eps);
  auto jd = (plus.taps[0] - minus.taps[0]) / (2 * eps);
  double via_h = (g[0] * jd).sum().item<double>();
  double via_x = (g[1] * d).sum().item<double>();
  ASSERT_GT(std::abs(fd), 1e-3);
  EXPECT_NEAR(via_h, fd, 1e-5 * std::abs(fd));
  EXPECT_NEAR(via_x, fd, 1e-5 * std::abs(fd));
}

TEST(Zoo, GradientThroughTapsMatchesFiniteDifferences) {
  {
    auto m = zoo_model("fmnist-cnn", "", 2);
    as_zoo(*m).module().to(torch::kDouble);
    auto x = example_input(*m, 1).to(torch::kDouble);
    expect_gradients_match_finite_differences(*m, x, {"relu2", TapSide::Output}, {"fc2", TapSide::Output}, 3);
  }
  {
    auto m = zoo_model("inception-v1", "", 2);
    as_zoo(*m).module().to(torch::kDouble);
    auto x = example_input(*m, 1, 64).to(torch::kDouble);
    // mixed3b_pre_relu channel 379 w.r.t. mixed3a, and through LRN and -inf padded max-pools to the input.
    auto r = m->run(x, taps_of({"mixed3b_pre_relu"}));
    ASSERT_EQ(r.taps[0].sizes(), (std::vector<int64_t>{1, 480, 8, 8}));
    expect_gradients_match_finite_differences(*m, x, {"mixed3a", TapSide::Output},
                                              {"mixed3b_pre_relu", TapSide::Output}, 379);
  }
}

}  // namespace
}  // namespace tension::testing
