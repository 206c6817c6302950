// Receptive fields and footprints from layer arithmetic against gradient supports over random inputs (the
// paper code's measure) on every layer of the native zoo and of torchvision models exported by Python, against
// hand-computed fields, and the fallback to gradient supports where an op is not covered.
#include <gtest/gtest.h>

#include <set>

#include "tension/model/layer_arithmetic.h"
#include "tension/model/receptive_field.h"
#include "tension/model/torchscript/model.h"
#include "tension/model/zoo/zoo.h"
#include "testing.h"

using namespace tension::model;
using tension::testing::testdata;

namespace {

// Gradient supports united over 4 random inputs: enough for every path of these random networks to carry
// gradient somewhere.
ReceptiveFieldOptions method(FieldMethod m) {
  ReceptiveFieldOptions o;
  o.samples = 4;
  o.method = m;
  return o;
}

std::string str(const Box& b) {
  return "[" + std::to_string(b.top) + "," + std::to_string(b.bottom) + ")x[" + std::to_string(b.left) + "," +
         std::to_string(b.right) + ")";
}

// TorchScript models at the fixtures' size (96), which keeps the measured fields quick.
std::unique_ptr<Model> model_named(const std::string& name, int64_t side = 96) {
  if (name.rfind("ts_", 0) == 0) {
    InputSpec spec;
    spec.height = spec.width = side;
    return load_torchscript(testdata(name), spec);
  }
  ZooOptions zo;
  zo.seed = 3;
  return make_zoo_model(name, zo);
}

// Every layer's centre-unit field, both ways (VGG11 as exported by torchvision; the zoo's is the same network).
// Every layer must come from the arithmetic except `measured_layers` (a silent fallback would make the comparison
// empty).
void expect_every_layer_agrees(Model& m, const std::set<std::string>& measured_layers) {
  std::vector<Tap> taps;
  for (const auto& l : m.layers()) taps.push_back({l.name, TapSide::Output});
  auto arithmetic = tap_geometry(m, taps, method(FieldMethod::arithmetic));
  auto measured = tap_geometry(m, taps, method(FieldMethod::gradient));
  ASSERT_EQ(arithmetic.size(), measured.size());
  size_t compared = 0;
  for (size_t i = 0; i < taps.size(); ++i) {
    const auto &a = arithmetic[i], &g = measured[i];
    ASSERT_EQ(a.error, g.error) << taps[i].str();
    if (!a.error.empty()) continue;
    EXPECT_EQ(a.shape, g.shape) << taps[i].str();
    EXPECT_EQ(g.method, FieldMethod::gradient);
    EXPECT_EQ(a.method, measured_layers.count(taps[i].layer) ? FieldMethod::gradient : FieldMethod::arithmetic)
        << taps[i].str();
    EXPECT_EQ(a.rf, g.rf) << taps[i].str() << ": arithmetic " << str(a.rf) << ", gradient " << str(g.rf);
    ++compared;
  }
  EXPECT_GT(compared, taps.size() / 2);
}

}  // namespace

// A model and the layers whose fields are measured: at 96 pixels VGG11's and AlexNet's adaptive average pools
// turn 3x3 and 2x2 maps into 7x7 and 6x6 ones, bins the arithmetic does not cover (the dense head after them is
// computed again).
struct EveryLayerCase {
  const char* model;
  std::set<std::string> measured;
};

void PrintTo(const EveryLayerCase& c, std::ostream* os) { *os << c.model; }

class EveryLayer : public ::testing::TestWithParam<EveryLayerCase> {};

TEST_P(EveryLayer, ArithmeticEqualsGradientSupport) {
  auto m = model_named(GetParam().model);
  ASSERT_NE(m, nullptr);
  expect_every_layer_agrees(*m, GetParam().measured);
}

INSTANTIATE_TEST_SUITE_P(Zoo, EveryLayer,
                         ::testing::Values(EveryLayerCase{"fmnist-cnn", {}}, EveryLayerCase{"fmnist-cnn-bn", {}},
                                           EveryLayerCase{"inception-v1", {}}));
INSTANTIATE_TEST_SUITE_P(TorchScript, EveryLayer,
                         ::testing::Values(EveryLayerCase{"ts_googlenet_traced.pt", {}},
                                           EveryLayerCase{"ts_googlenet_scripted.pt", {}},
                                           EveryLayerCase{"ts_resnet18_traced.pt", {}},
                                           EveryLayerCase{"ts_resnet18_scripted.pt", {}},
                                           EveryLayerCase{"ts_vgg11_traced.pt", {"avgpool"}},
                                           EveryLayerCase{"ts_alexnet_traced.pt", {"avgpool"}},
                                           EveryLayerCase{"ts_alexnet_scripted.pt", {"avgpool"}}));

// By hand: Lucid's InceptionV1 at 224. conv2d0 is a 7x7 stride-2 conv padded (2, 3) on each axis (TF "SAME"),
// so unit 56 reads input rows [112 - 2, 112 - 2 + 7); maxpool0 (3x3, stride 2, padded (0, 1)) of conv2d0 unit
// 28 reads conv2d0 units [56, 59), i.e. input rows [110, 110 + 2 * 2 + 7).
TEST(LayerArithmetic, MatchesHandComputedFieldsOfInceptionV1) {
  auto m = model_named("inception-v1");
  auto geo = tap_geometry(*m, {parse_tap("conv2d0"), parse_tap("maxpool0")});
  EXPECT_EQ(geo[0].row, 56);
  EXPECT_EQ(geo[0].rf, (Box{110, 110, 117, 117})) << str(geo[0].rf);
  EXPECT_EQ(geo[1].row, 28);
  EXPECT_EQ(geo[1].rf, (Box{110, 110, 121, 121})) << str(geo[1].rf);
}

// Footprints (a layer's positions that a unit of a later layer reads) through branches, skips and a dense head.
TEST(LayerArithmetic, FootprintsEqualGradientSupports) {
  for (const char* file : {"ts_googlenet_traced.pt", "ts_resnet18_scripted.pt"}) {
    auto m = model_named(file);
    const bool g = std::string(file).find("googlenet") != std::string::npos;
    std::vector<Tap> targets = g ? std::vector<Tap>{parse_tap("inception3b"), parse_tap("inception4a"), parse_tap("fc")}
                                 : std::vector<Tap>{parse_tap("layer2.0"), parse_tap("layer3.1"), parse_tap("fc")};
    std::vector<std::optional<Tap>> sources = {std::nullopt, g ? parse_tap("maxpool2") : parse_tap("layer1.0"),
                                               g ? parse_tap("inception3a") : parse_tap("layer2.0.conv1")};
    std::vector<SupportQuery> queries;
    for (const auto& t : targets) {
      for (int64_t off : {0, 1}) {
        auto at = [off](const torch::Tensor& act) {
          if (act.dim() != 4) return Box{};
          const int64_t r = act.size(2) / 2 + off, c = act.size(3) / 2 - off;
          return Box{r, c, r + 1, c + 1};
        };
        auto unit = [at](const torch::Tensor& act) {
          if (act.dim() != 4) return act.sum(1);
          auto b = at(act);
          return act.index({torch::indexing::Slice(), torch::indexing::Slice(), b.top, b.left}).sum(1);
        };
        queries.push_back({t, unit, at});
      }
    }
    auto a = supports(*m, queries, sources, method(FieldMethod::arithmetic));
    auto s = gradient_supports(*m, queries, sources, method(FieldMethod::gradient));
    for (size_t q = 0; q < queries.size(); ++q) {
      for (size_t k = 0; k < sources.size(); ++k) {
        EXPECT_EQ(a[q][k], s[q][k]) << file << ": " << queries[q].target.str() << " #" << q << " on source " << k
                                    << ": arithmetic " << str(a[q][k]) << ", gradient " << str(s[q][k]);
      }
    }
    // A source after the target: no footprint either way.
    auto late = supports(*m, {queries[0]}, {targets[1]}, method(FieldMethod::arithmetic));
    EXPECT_EQ(late[0][0].height(), 0);
  }
}

// The upsampling is not covered: the field after it is measured, and right; the dilated conv before it is
// computed: 3x3 dilation 2 padding 2, so unit 10 reads rows [8, 13).
TEST(LayerArithmetic, FallsBackToGradientSupportsWhereAnOpIsNotCovered) {
  auto m = model_named("ts_upsample_toy_scripted.pt");
  auto geo = tap_geometry(*m, {parse_tap("conv"), parse_tap("conv2")}, method(FieldMethod::arithmetic));
  ASSERT_TRUE(geo[0].error.empty()) << geo[0].error;
  EXPECT_EQ(geo[0].method, FieldMethod::arithmetic);
  EXPECT_EQ(geo[0].rf, (Box{geo[0].row - 2, geo[0].col - 2, geo[0].row + 3, geo[0].col + 3})) << str(geo[0].rf);
  EXPECT_EQ(geo[1].method, FieldMethod::gradient);
  auto measured = tap_geometry(*m, {parse_tap("conv2")}, method(FieldMethod::gradient));
  EXPECT_EQ(geo[1].rf, measured[0].rf);
  // conv2 unit r reads upsampled rows [2r, 2r + 3), i.e. conv rows [r, r + 2), i.e. input rows [r - 2, r + 4).
  const int64_t r = geo[1].row, c = geo[1].col;
  EXPECT_EQ(geo[1].rf, (Box{r - 2, c - 2, r + 4, c + 4})) << str(geo[1].rf);
}

// The arithmetic itself on a field of known parts: a positional part and a fixed part, clipped.
TEST(LayerArithmetic, FieldBoxUnitesAndClips) {
  LayerField f;
  f.positional = std::array<AxisField, 2>{AxisField{4, -3, 11}, AxisField{2, 1, 3}};
  EXPECT_EQ(field_box(f, {0, 0, 1, 1}, 100, 100), (Box{0, 1, 8, 4}));
  EXPECT_EQ(field_box(f, {2, 5, 4, 6}, 100, 100), (Box{5, 11, 20, 14}));
  EXPECT_EQ(field_box(f, {30, 60, 31, 61}, 100, 100).height(), 0);  // rows [117, 128): outside
  f.fixed = {50, 50, 60, 60};
  EXPECT_EQ(field_box(f, {0, 0, 1, 1}, 100, 100), (Box{0, 1, 60, 60}));
  EXPECT_TRUE(LayerField{}.reads_nothing());
  EXPECT_EQ(field_box(LayerField{}, {0, 0, 1, 1}, 10, 10).height(), 0);
}
