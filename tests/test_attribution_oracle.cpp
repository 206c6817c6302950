// The attribution engine against Python PyTorch with forward hooks on the same TorchScript models
// (tests/python/fixture_attribution.py), and completeness on a positively homogeneous network.
#include <gtest/gtest.h>

#include "tension/attribution/attributor.h"
#include "tension/core/error.h"
#include "tension/model/torchscript/model.h"
#include "testing.h"

using namespace tension;
using tension::testing::load_tensor_dict;
using tension::testing::max_rel_err;
using tension::testing::testdata;

namespace {

std::unique_ptr<model::Model> load(const std::string& name) {
  model::InputSpec in;
  in.height = in.width = 24;
  return model::load_torchscript(testdata("attribution/" + name + ".pt"), in);
}

attribution::AttributorOptions options(bool keep_s) {
  attribution::AttributorOptions o;
  o.features = {feature::parse_feature("conv4:2"), feature::parse_feature("conv4:7")};
  o.layers = {"relu1", "relu3"};
  o.keep_s = keep_s;
  return o;
}

}  // namespace

TEST(AttributionOracle, MatchesPythonHooks) {
  auto ref = load_tensor_dict(testdata("attribution/net_ref.pt"));
  auto m = load("net");
  attribution::Attributor attr(*m, options(true));
  // conv4's centre unit sees 14x14 of the 24x24 input: the engine runs on a crop, and must still equal
  // Python's uncropped computation.
  ASSERT_GT(attr.input_crop().height(), 0);
  EXPECT_LT(attr.input_crop().height(), 24);
  // ... and on the features' windows of relu1 and relu3 (relu1 is in place: the windows must see its output).
  ASSERT_TRUE(attr.uses_layer_windows());
  auto res = attr.attribute(ref["x"]);
  const int units[] = {2, 7};
  const char* layers[] = {"relu1", "relu3"};
  for (size_t k = 0; k < 2; ++k) {
    EXPECT_LT(max_rel_err(res[k].fv, ref["fv_" + std::to_string(units[k])]), 1e-5);
    for (size_t l = 0; l < 2; ++l) {
      std::string key = std::to_string(units[k]) + "_" + layers[l];
      const auto& la = res[k].layers[l];
      SCOPED_TRACE(key);
      EXPECT_LT(max_rel_err(la.totals.e, ref["E_" + key]), 1e-4);
      EXPECT_LT(max_rel_err(la.totals.e_pos, ref["Epos_" + key]), 1e-4);
      EXPECT_LT(max_rel_err(la.totals.e_neg, ref["Eneg_" + key]), 1e-4);
      EXPECT_LT(max_rel_err(la.totals.l2, ref["L2_" + key]), 1e-4);
      EXPECT_LT(max_rel_err(la.totals.l21, ref["L21_" + key]), 1e-4);
      // The footprint holds every position where Python saw a gradient, and crops lose nothing.
      auto b = la.footprint;
      auto support = ref["support_" + key];
      EXPECT_EQ(support.sum().item<int64_t>(),
                support.slice(0, b.top, b.bottom).slice(1, b.left, b.right).sum().item<int64_t>());
      auto crop = [&](const torch::Tensor& t) { return t.slice(-2, b.top, b.bottom).slice(-1, b.left, b.right); };
      EXPECT_LT(max_rel_err(la.phi_pos, crop(ref["phipos_" + key])), 1e-4);
      EXPECT_LT(max_rel_err(la.phi_neg, crop(ref["phineg_" + key])), 1e-4);
      EXPECT_LT(max_rel_err(la.s, crop(ref["S_" + key])), 1e-4);
      EXPECT_LT(max_rel_err(la.channels, ref["S_" + key].sum({2, 3})), 1e-4);
    }
  }
}

TEST(AttributionOracle, CompleteOnAPositivelyHomogeneousNetwork) {
  // No biases, ReLU and max-pool only: f is positively homogeneous in every hidden layer, so
  // sum(grad * h) = f_v exactly (Euler), at every layer and at the pixels.
  auto ref = load_tensor_dict(testdata("attribution/net_nobias_ref.pt"));
  auto m = load("net_nobias");
  auto opt = options(false);
  opt.layers = {"relu1", "relu3", attribution::kInputLayer};
  attribution::Attributor attr(*m, opt);
  auto res = attr.attribute(ref["x"]);
  for (const auto& fa : res) {
    for (const auto& la : fa.layers) {
      EXPECT_LT(max_rel_err(la.totals.e, fa.fv, 1e-6), 1e-5);
      EXPECT_TRUE(torch::allclose(la.totals.e_pos - la.totals.e_neg, la.totals.e, 1e-5, 1e-6));
    }
  }
}

TEST(AttributionOracle, LayerAfterTheFeatureIsAClearError) {
  auto m = load("net");
  attribution::AttributorOptions o;
  o.features = {feature::parse_feature("conv3:0")};
  o.layers = {"conv4"};
  try {
    attribution::Attributor attr(*m, o);
    attr.attribute(torch::rand({1, 3, 24, 24}));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("conv4"), std::string::npos) << e.what();
  }
  o.layers = {"no_such_layer"};
  EXPECT_THROW(attribution::Attributor(*m, o), Error);
}

TEST(AttributionOracle, TruncatedForwardEqualsTheFullOne) {
  // The engine's forward stops after the feature's layer; the same attribution from a full forward (the
  // model output requested, so nothing is cut) must be identical.
  auto ref = load_tensor_dict(testdata("attribution/net_ref.pt"));
  auto m = load("net");
  auto opt = options(false);
  opt.features = {feature::parse_feature("conv3:4")};
  opt.layers = {"relu1", "relu2"};
  attribution::Attributor attr(*m, opt);
  auto fast = attr.attribute(ref["x"]);

  model::RunOptions full;
  full.want_output = true;
  full.differentiable = true;
  auto res = m->run(ref["x"], {{"conv3"}, {"relu1"}, {"relu2"}}, full);
  ASSERT_TRUE(res.output.defined());
  auto fv = feature::read_feature(opt.features[0], res.taps[0]);
  auto grads = torch::autograd::grad({fv.sum()}, {res.taps[1], res.taps[2]});
  EXPECT_TRUE(torch::equal(fast[0].fv, fv.detach()));
  for (size_t l = 0; l < 2; ++l) {
    auto e = (grads[l] * res.taps[l + 1].detach()).flatten(1).sum(1);
    EXPECT_LT(max_rel_err(fast[0].layers[l].totals.e, e), 1e-6) << opt.layers[l];
  }
}

TEST(AttributionOracle, InputCropEqualsTheFullInput) {
  auto ref = load_tensor_dict(testdata("attribution/net_ref.pt"));
  auto m = load("net");
  auto opt = options(true);
  opt.features = {feature::parse_feature("conv4:3@4,5"), feature::parse_feature("conv3:1@5,4")};
  opt.layers = {"relu1", "relu2", attribution::kInputLayer};
  attribution::Attributor cropped(*m, opt);
  opt.crop_input = false;
  attribution::Attributor full(*m, opt);
  ASSERT_GT(cropped.input_crop().height(), 0) << "off-centre positions still allow a crop";
  EXPECT_EQ(full.input_crop().height(), 0);
  auto a = cropped.attribute(ref["x"]), b = full.attribute(ref["x"]);
  for (size_t k = 0; k < 2; ++k) {
    EXPECT_LT(max_rel_err(a[k].fv, b[k].fv), 1e-6);
    for (size_t l = 0; l < 3; ++l) {
      SCOPED_TRACE(opt.layers[l]);
      EXPECT_EQ(a[k].layers[l].footprint, b[k].layers[l].footprint);
      EXPECT_LT(max_rel_err(a[k].layers[l].totals.e_pos, b[k].layers[l].totals.e_pos), 1e-5);
      EXPECT_LT(max_rel_err(a[k].layers[l].totals.l21, b[k].layers[l].totals.l21), 1e-5);
      EXPECT_LT(max_rel_err(a[k].layers[l].phi_neg, b[k].layers[l].phi_neg), 1e-5);
      EXPECT_LT(max_rel_err(a[k].layers[l].s, b[k].layers[l].s), 1e-5);
      EXPECT_LT(max_rel_err(a[k].layers[l].channels, b[k].layers[l].channels), 1e-5);
    }
  }
}

TEST(AttributionOracle, LayerWindowsEqualTheFullComputation) {
  // Features at three positions of two layers: windows of two sizes, so two replica batches per layer.
  auto ref = load_tensor_dict(testdata("attribution/net_ref.pt"));
  auto m = load("net");
  auto opt = options(true);
  opt.features = {feature::parse_feature("conv4:3@4,5"), feature::parse_feature("conv4:2"),
                  feature::parse_feature("conv3:1@0,11")};
  opt.layers = {"relu1", "relu2"};
  opt.crop_input = false;
  attribution::Attributor windows(*m, opt);
  opt.layer_windows = false;
  attribution::Attributor full(*m, opt);
  ASSERT_TRUE(windows.uses_layer_windows());
  EXPECT_FALSE(full.uses_layer_windows());
  auto a = windows.attribute(ref["x"]), b = full.attribute(ref["x"]);
  for (size_t k = 0; k < a.size(); ++k) {
    SCOPED_TRACE(opt.features[k].spec);
    EXPECT_LT(max_rel_err(a[k].fv, b[k].fv), 1e-6);
    for (size_t l = 0; l < opt.layers.size(); ++l) {
      SCOPED_TRACE(opt.layers[l]);
      const auto &x = a[k].layers[l], &y = b[k].layers[l];
      EXPECT_EQ(x.footprint, y.footprint);
      for (auto [u, v] : {std::pair{x.totals.e, y.totals.e}, {x.totals.e_pos, y.totals.e_pos},
                          {x.totals.e_neg, y.totals.e_neg}, {x.totals.l1, y.totals.l1}, {x.totals.l2, y.totals.l2},
                          {x.totals.l21, y.totals.l21}, {x.phi_pos, y.phi_pos}, {x.phi_neg, y.phi_neg}, {x.s, y.s},
                          {x.channels, y.channels}}) {
        EXPECT_LT(max_rel_err(u, v), 1e-5);
      }
    }
  }
}
