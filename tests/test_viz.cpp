// The feature-visualisation engine (paper §4): colour decorrelation, parameterisations, transforms, eq. 5,
// the objective's gradient against finite differences, opacity, spectra, and the options as run.json records them.
#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "tension/attribution/attributor.h"
#include "tension/data/dataset.h"
#include "tension/data/preprocess.h"
#include "tension/model/registry.h"
#include "tension/model/torchscript/model.h"
#include "tension/viz/attribution_target.h"
#include "tension/viz/color.h"
#include "tension/core/blur.h"
#include "tension/viz/opacity.h"
#include "tension/viz/parameterization.h"
#include "tension/viz/optimize.h"
#include "tension/viz/panels.h"
#include "tension/viz/spectrum.h"
#include "testing.h"

using namespace tension;

namespace {

std::unique_ptr<model::Model> default_model() { return model::load_model("fmnist-cnn"); }

// Transformations without randomness: the whole canvas, no noise (only the resize and the input range).
viz::TransformOptions fixed_transforms() {
  viz::TransformOptions t;
  t.count = 1;
  t.box_min = t.box_max = 1;
  t.box_loc_std = t.noise_std = t.noise_uniform = 0;
  return t;
}

// A parameterisation's options for starting from seed images [B, C, S, S].
viz::ImageOptions seeded(const torch::Tensor& seeds) {
  viz::ImageOptions io{seeds.size(0), seeds.size(1), seeds.size(2)};
  io.seed_images = seeds;
  return io;
}

// A short optimisation without a progress bar.
viz::OptimizeOptions short_optimize(int64_t steps, int64_t draws) {
  viz::OptimizeOptions o;
  o.steps = steps;
  o.transforms.count = draws;
  o.progress = false;
  return o;
}

}  // namespace

TEST(VizColor, MatchesThePaperMatrixAndRoundTrips) {
  // The paper code's row-vector matrix (docs/paper-code.md §2.8.1) is our M transposed.
  auto paper = torch::tensor({{0.56282854, 0.58447580, 0.58447580},
                              {0.19482528, 0.0, -0.19482528},
                              {0.04329450, -0.10823626, 0.06494176}});
  EXPECT_LT((viz::color_correlation().t() - paper).abs().max().item<double>(), 1e-6);
  auto x = torch::rand({2, 3, 5, 7});
  EXPECT_LT((viz::decorrelate(viz::recorrelate(x)) - x).abs().max().item<double>(), 1e-5);
  auto grey = torch::rand({2, 1, 5, 5});
  EXPECT_TRUE(torch::equal(viz::recorrelate(grey), grey));
  tension::testing::error_of([] { viz::recorrelate(torch::rand({1, 2, 4, 4})); });
}

TEST(VizObjective, DotCosEqualsEquation5) {
  torch::manual_seed(0);
  auto act = torch::randn({4, 6, 9, 9});  // [T, C, H, W], both signs
  auto target = torch::rand({6, 3, 4});
  model::Box box{2, 5, 5, 9};
  for (int p : {0, 1, 2, 3}) {
    auto o = viz::dot_cos_objective(model::parse_tap("relu1"), target, box, p, 0);
    auto got = o.value(viz::objective_input(o, act));
    // (h . S)^(p+1) / (|h| |S|)^p on the cropped, flattened activation, in double.
    auto h = act.slice(2, 2, 5).slice(3, 5, 9).reshape({4, -1}).to(torch::kDouble);
    auto s = target.flatten().to(torch::kDouble);
    auto dot = h.matmul(s);
    auto want = dot.pow(p + 1) / (h.norm(2, 1) * s.norm()).pow(p);
    SCOPED_TRACE(p);
    EXPECT_LT(tension::testing::max_rel_err(got, want), 1e-5);
  }
  auto o = viz::dot_cos_objective(model::parse_tap("relu1"), target, box, 1, 0);
  auto msg = tension::testing::error_of([&] { o.value(viz::objective_input(o, torch::randn({2, 5, 9, 9}))); });
  EXPECT_NE(msg.find("does not fit"), std::string::npos) << msg;
}

TEST(VizObjective, TargetsAreThePartsOfS) {
  auto s = torch::randn({4, 3, 3});
  EXPECT_TRUE(torch::equal(viz::attribution_target(s, viz::Target::SPos), torch::relu(s)));
  EXPECT_TRUE(torch::equal(viz::attribution_target(s, viz::Target::SNeg), torch::relu(-s)));
  EXPECT_TRUE(torch::equal(viz::attribution_target(s, viz::Target::Abs), s.abs()));
  EXPECT_TRUE(torch::allclose(viz::attribution_target(s, viz::Target::SPos) - viz::attribution_target(s, viz::Target::SNeg), s));
  EXPECT_EQ(viz::parse_target("s-"), viz::Target::SNeg);
  auto msg = tension::testing::error_of([] { viz::parse_target("s"); });
  EXPECT_NE(msg.find("s+, s-, abs, max or min"), std::string::npos) << msg;
}

// The gradient that the optimisation loop applies (model input -> transformations -> image -> parameters) against
// central differences of the loss, along several directions, for eq. 5 and a feature objective in one batch.
TEST(VizObjective, GradientMatchesFiniteDifferences) {
  auto m = default_model();
  attribution::AttributorOptions ao;
  ao.features = {feature::parse_feature("conv2:3")};
  ao.layers = {"relu1"};
  ao.keep_s = true;
  attribution::Attributor attributor(*m, ao);
  const auto& in = m->input_spec();
  auto x = data::preprocess(data::open_dataset("fashion-mnist:test")->load(0), in);
  auto attr = viz::attributions_per_feature(attributor, x.unsqueeze(0))[0];
  std::vector<viz::Objective> objectives{
      viz::target_objective(*m, ao.features[0], viz::Target::SNeg, &attr, 1, 0),
      viz::target_objective(*m, feature::parse_feature("conv3:7"), viz::Target::Max, nullptr, 1, 1)};

  // Seeded MACO on a 32 canvas: the chain includes the resize to 28.
  auto seeds = torch::stack({torch::rand({1, 32, 32}, at::make_generator<at::CPUGeneratorImpl>(1)),
                             torch::rand({1, 32, 32}, at::make_generator<at::CPUGeneratorImpl>(2))});
  viz::MacoImage param(seeded(seeds), {});
  viz::Transforms tr(fixed_transforms(), in, 0, m->device());
  auto images = param.render();
  auto ev = viz::evaluate(*m, images, tr, objectives);
  images.backward(ev.grad);
  auto params = param.parameters();
  auto loss_at = [&](const std::vector<torch::Tensor>& values) {
    torch::NoGradGuard ng;
    std::vector<torch::Tensor> saved;
    for (size_t i = 0; i < params.size(); ++i) {
      saved.push_back(params[i].detach().clone());
      params[i].detach().copy_(values[i]);
    }
    double l = viz::evaluate(*m, param.render(), tr, objectives).loss.sum().item<double>();
    for (size_t i = 0; i < params.size(); ++i) params[i].detach().copy_(saved[i]);
    return l;
  };
  auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
  std::vector<torch::Tensor> grads;
  for (auto& p : params) grads.push_back(p.grad().clone());
  for (int dir = 0; dir < 3; ++dir) {
    // Directions: the gradient itself, then the gradient masked at random (still correlated with it).
    std::vector<torch::Tensor> d;
    double norm2 = 0;
    for (auto& g : grads) {
      auto v = dir == 0 ? g.clone() : g * torch::rand(g.sizes(), gen);
      norm2 += v.pow(2).sum().item<double>();
      d.push_back(v);
    }
    double predicted = 0;
    for (size_t i = 0; i < d.size(); ++i) {
      d[i] /= std::sqrt(norm2);
      predicted += (grads[i] * d[i]).sum().item<double>();
    }
    const double eps = 1e-3;
    std::vector<torch::Tensor> plus, minus;
    for (size_t i = 0; i < params.size(); ++i) {
      plus.push_back(params[i].detach() + eps * d[i]);
      minus.push_back(params[i].detach() - eps * d[i]);
    }
    double fd = (loss_at(plus) - loss_at(minus)) / (2 * eps);
    SCOPED_TRACE(dir);
    EXPECT_GT(std::abs(predicted), 1e-3);
    EXPECT_NEAR(fd, predicted, 0.02 * std::abs(predicted));
  }
}

// The input crop of the optimisation loop against the whole input: on a conv net whose conv4 centre unit sees 14x14
// of 24x24 pixels, an accentuation toward S- at relu3 and a feature objective run on a crop, and every step's
// losses, the images and the accumulated pixel gradients equal those of the uncropped loop.
TEST(VizOptimize, InputCropEqualsTheWholeInput) {
  model::InputSpec in;
  in.height = in.width = 24;
  auto m = model::load_torchscript(tension::testing::testdata("attribution/net.pt"), in);
  attribution::AttributorOptions ao;
  ao.features = {feature::parse_feature("conv4:2")};
  ao.layers = {"relu3"};
  ao.keep_s = true;
  attribution::Attributor attributor(*m, ao);
  auto seed = torch::rand({1, 3, 32, 32}, at::make_generator<at::CPUGeneratorImpl>(5));
  auto attr = viz::attributions_per_feature(attributor, data::preprocess(seed[0], in).unsqueeze(0))[0];
  std::vector<viz::Objective> objectives{
      viz::target_objective(*m, ao.features[0], viz::Target::SNeg, &attr, 1, 0),
      viz::target_objective(*m, feature::parse_feature("conv4:7"), viz::Target::Max, nullptr, 1, 1)};
  auto plan = viz::plan_objectives(*m, objectives);
  ASSERT_GT(plan.input.height(), 0);
  EXPECT_LT(plan.input.height() * plan.input.width(), 24 * 24);
  // An objective over every position needs the whole input.
  auto whole = objectives;
  whole.push_back(viz::channel_objective(model::parse_tap("relu3"), 1, 1));
  EXPECT_EQ(viz::plan_objectives(*m, whole).input.height(), 0);

  auto run = [&](bool crop) {
    viz::MacoImage param(seeded(seed.expand({2, -1, -1, -1})), {});
    auto o = short_optimize(4, 3);
    o.crop_input = crop;
    return viz::optimize(*m, param, objectives, o);
  };
  auto a = run(true), b = run(false);
  for (size_t k = 0; k < b.curve.size(); ++k) {
    SCOPED_TRACE(k);
    EXPECT_LT(tension::testing::max_rel_err(a.curve[k].loss, b.curve[k].loss), 1e-4);
  }
  EXPECT_LT((a.images - b.images).abs().max().item<double>(), 1e-4);
  EXPECT_LT(tension::testing::max_rel_err(a.gradients, b.gradients), 1e-3);
}

TEST(VizParam, SeededMacoRendersTheSeed) {
  for (int64_t c : {1, 3}) {
    auto seeds = torch::rand({2, c, 40, 40});
    seeds[0][0][0][0] = 0.0;  // saturated pixels survive the clamped logit
    seeds[1][0][3][3] = 1.0;
    viz::MacoImage param(seeded(seeds), {});
    auto img = param.render();
    SCOPED_TRACE(c);
    EXPECT_LE((img - seeds).abs().max().item<double>(), 2.0 / 255);
    EXPECT_EQ(param.parameters().size(), 2u);  // phase and gate
  }
}

TEST(VizParam, PhaseOnlyOptimisationKeepsTheMagnitude) {
  auto m = default_model();
  auto spectrum = viz::one_over_f(48).unsqueeze(0);
  viz::ImageOptions io{2, 1, 48};
  io.seed = 4;
  viz::MacoImage param(io, spectrum);
  auto before = param.render().detach().clone();
  auto mag = param.magnitude().clone();
  ASSERT_EQ(param.parameters().size(), 1u);  // the phase alone
  std::vector<viz::Objective> obj{viz::feature_objective(*m, feature::parse_feature("conv3:1"), 0),
                                  viz::feature_objective(*m, feature::parse_feature("conv3:2"), 1, false)};
  auto o = short_optimize(6, 2);
  o.lr = 0.05;
  viz::optimize(*m, param, obj, o);
  auto after = param.render().detach();
  EXPECT_GT((after - before).abs().max().item<double>(), 1e-2);  // the image changed ...
  EXPECT_LT(tension::testing::max_rel_err(param.buffer().abs().detach(), mag.expand({2, -1, -1, -1})), 1e-5);  // ... its magnitude did not
  // And render() shows that buffer: standardised inverse FFT through the sigmoid.
  auto z = torch::fft::irfft2(param.buffer().detach(), std::vector<int64_t>{48, 48});
  z = (z - z.mean({1, 2, 3}, true)) / (z.std({1, 2, 3}, true, true) + 1e-4);
  EXPECT_LT((torch::sigmoid(z) - after).abs().max().item<double>(), 1e-5);
}

TEST(VizParam, EveryKindRendersAndSeeds) {
  auto seeds = torch::rand({1, 3, 16, 16});
  for (std::string kind : {"pixel", "fourier", "maco"}) {
    SCOPED_TRACE(kind);
    auto noise = viz::make_parameterization(kind, viz::ImageOptions{3, 3, 16}, viz::one_over_f(16).expand({3, -1, -1}));
    auto img = noise->render();
    EXPECT_EQ(img.sizes(), (std::vector<int64_t>{3, 3, 16, 16}));
    EXPECT_TRUE(img.gt(0).all().item<bool>() && img.lt(1).all().item<bool>());
    auto from_seeds = viz::make_parameterization(kind, seeded(seeds));
    EXPECT_LE((from_seeds->render() - seeds).abs().max().item<double>(), 2.0 / 255);
  }
  auto msg = tension::testing::error_of([] { viz::make_parameterization("maco", viz::ImageOptions{1, 3, 16}); });
  EXPECT_NE(msg.find("spectrum"), std::string::npos) << msg;
  msg = tension::testing::error_of([] { viz::make_parameterization("dct", viz::ImageOptions{1, 3, 16}); });
  EXPECT_NE(msg.find("maco, fourier or pixel"), std::string::npos) << msg;
  viz::ImageOptions two{2, 3, 16};
  two.seed_images = seeds;  // one image for a batch of two
  msg = tension::testing::error_of([&] { viz::make_parameterization("pixel", two); });
  EXPECT_NE(msg.find("seed images must be"), std::string::npos) << msg;
}

TEST(VizTransforms, CropsStayInsideAndInRange) {
  model::InputSpec in;
  in.channels = 3;
  in.height = in.width = 64;
  viz::Transforms tr({}, in, 7, torch::kCPU);
  int64_t smallest = 512, largest = 0;
  double centre = 0;
  for (int i = 0; i < 2000; ++i) {
    auto b = tr.draw_box(512);
    ASSERT_EQ(b.height(), b.width());
    ASSERT_GE(b.top, 0);
    ASSERT_GE(b.left, 0);
    ASSERT_LE(b.bottom, 512);
    ASSERT_LE(b.right, 512);
    smallest = std::min(smallest, b.height());
    largest = std::max(largest, b.height());
    centre += (b.top + b.bottom) / 2.0 / 2000;
  }
  EXPECT_GE(smallest, static_cast<int64_t>(0.9 * 512));
  EXPECT_LE(largest, static_cast<int64_t>(0.99 * 512));
  EXPECT_LT(smallest, static_cast<int64_t>(0.91 * 512));  // the whole range is used
  EXPECT_GT(largest, static_cast<int64_t>(0.98 * 512));
  EXPECT_NEAR(centre, 256, 5);

  // A flat image comes out flat without noise, in the model's input range; with noise, its spread is about
  // sqrt(0.02^2 + 0.01^2 / 3) and shared by the batch.
  in.range_lo = -117;
  in.range_hi = 138;
  auto flat = torch::full({2, 3, 64, 64}, 0.25);
  viz::TransformOptions no_noise;
  no_noise.count = 3;
  no_noise.noise_std = no_noise.noise_uniform = 0;
  viz::Transforms quiet(no_noise, in, 1, torch::kCPU);
  auto y = quiet(flat);
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{6, 3, 64, 64}));
  EXPECT_LT((y - (0.25 * 255 - 117)).abs().max().item<double>(), 1e-3);
  viz::TransformOptions four;
  four.count = 4;
  viz::Transforms noisy(four, in, 1, torch::kCPU);
  auto u = (noisy(flat) + 117) / 255;
  EXPECT_NEAR(u.mean().item<double>(), 0.25, 2e-3);
  double sd = u.std().item<double>(), want = std::sqrt(0.02 * 0.02 + 0.01 * 0.01 / 3);
  EXPECT_GT(sd, 0.5 * want);
  EXPECT_LT(sd, 1.1 * want);
  auto rows = u.view({4, 2, 3, 64, 64});
  EXPECT_TRUE(torch::equal(rows.select(1, 0), rows.select(1, 1)));  // same crop and noise for every item
  viz::TransformOptions inverted;
  inverted.box_min = 0.5;
  inverted.box_max = 0.4;
  tension::testing::error_of([&] { viz::Transforms(inverted, in, 0, torch::kCPU); });
}

TEST(VizOpacity, NormalisedClippedAndBlurred) {
  auto g = torch::rand({2, 3, 64, 64}, at::make_generator<at::CPUGeneratorImpl>(5)) * 0.1;
  g[0].narrow(1, 20, 10).narrow(2, 20, 10) += 10;  // a bright square: 100 of 4096 pixels, under 3 %
  auto a = viz::opacity(g);
  EXPECT_EQ(a.sizes(), (std::vector<int64_t>{2, 1, 64, 64}));
  EXPECT_GE(a.min().item<double>(), 0);
  EXPECT_LE(a.max().item<double>(), 1);
  // Clipping the top 3 % flattens the square to the 97th percentile of the field, so the field stays visible ...
  EXPECT_GT(a[0][0][25][25].item<double>(), 0.95);
  EXPECT_GT(a[0][0][50][50].item<double>(), 0.2);
  // ... unclipped, the square's 100x contrast hides it.
  auto raw = viz::opacity(g, {/*clip_percent=*/0});
  EXPECT_LT(raw[0][0][50][50].item<double>(), 0.02);
  // Without blur, 3 % of the pixels sit at the clip, which is the maximum.
  auto sharp = viz::opacity(g, {/*clip_percent=*/3, /*blur_sigma=*/0});
  EXPECT_NEAR(sharp[1].ge(1 - 1e-6).to(torch::kDouble).mean().item<double>(), 0.03, 0.002);
  // Blurring a flat field leaves it flat (mirrored borders).
  auto flat = tension::gaussian_blur(torch::ones({1, 1, 8, 8}), 2);
  EXPECT_LT((flat - 1).abs().max().item<double>(), 1e-5);
}

// The panels' options as run.json records them (with the optimisation, transformation and opacity options inside):
// the defaults of the paper's recipes, a changed value where it was changed, no tensor, and back to the same options.
TEST(VizOptions, PanelOptionsRoundTripThroughJson) {
  viz::PanelOptions po;
  po.canvas = 64;
  po.spectrum = viz::one_over_f(64).unsqueeze(0);
  po.feature_optimize.transforms.noise_std = 0.03;
  po.attribution_opacity.blur_sigma = 1.5;
  const nlohmann::json j = po;
  EXPECT_FALSE(j.contains("spectrum"));
  EXPECT_EQ(j["canvas"], 64);
  EXPECT_EQ(j["feature_optimize"]["transforms"]["noise_std"], 0.03);
  EXPECT_EQ(j["attribution_opacity"]["blur_sigma"], 1.5);
  EXPECT_EQ(j["attribution_optimize"]["steps"], 121);
  EXPECT_EQ(j["feature_optimize"]["steps"], 101);
  EXPECT_EQ(j["feature_optimize"]["lr"], 0.05);
  EXPECT_EQ(j["feature_optimize"]["transforms"]["count"], 8);
  EXPECT_EQ(j["feature_opacity"]["clip_percent"], 8);
  EXPECT_FALSE(j["attribution_optimize"].contains("monitor"));

  const auto back = j.get<viz::PanelOptions>();
  EXPECT_EQ(back.param, po.param);
  EXPECT_EQ(back.canvas, 64);
  EXPECT_EQ(back.cos_power, po.cos_power);
  EXPECT_EQ(back.seed, po.seed);
  EXPECT_EQ(back.attribution_optimize.steps, 121);
  EXPECT_EQ(back.attribution_optimize.lr, 0.02);
  EXPECT_EQ(back.attribution_optimize.crop_input, true);
  EXPECT_EQ(back.feature_optimize.steps, 101);
  EXPECT_EQ(back.feature_optimize.transforms.count, 8);
  EXPECT_EQ(back.feature_optimize.transforms.noise_std, 0.03);
  EXPECT_EQ(back.feature_optimize.transforms.box_min, 0.9);
  EXPECT_EQ(back.attribution_opacity.blur_sigma, 1.5);
  EXPECT_EQ(back.attribution_opacity.clip_percent, 3);
  EXPECT_EQ(back.feature_opacity.clip_percent, 8);
  EXPECT_FALSE(back.spectrum.defined());
  EXPECT_EQ(nlohmann::json(back), j);
}

TEST(VizSpectrum, NaturalImagesFallOffAsAPowerLaw) {
  auto ds = data::open_dataset("fashion-mnist:test");
  auto s = viz::estimate_spectrum(*ds, viz::SpectrumOptions{32, 1, 200});
  EXPECT_EQ(s.sizes(), (std::vector<int64_t>{1, 32, 17}));
  auto p = viz::radial_profile(s);
  EXPECT_LT(p.slope[0], -0.5);
  // 1/f has slope -1 exactly.
  auto q = viz::radial_profile(viz::one_over_f(64).unsqueeze(0));
  EXPECT_NEAR(q.slope[0], -1, 0.05);
  EXPECT_EQ(viz::fit_spectrum(s, 64).sizes(), (std::vector<int64_t>{1, 64, 33}));
}
