// The effective receptive field (issue 13 part 3) against a model whose field is known in closed form
// (tests/python/fixture_effective_field.py: four constant 3x7 convolutions, the expected map and crops computed
// in numpy), and the box helpers that carry it to the canvas.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "tension/analysis/feature_field.h"
#include "tension/model/effective_field.h"
#include "tension/model/torchscript/model.h"
#include "test_zoo_util.h"
#include "testing.h"

using namespace tension;
using tension::testing::testdata;

namespace {

nlohmann::json expected() {
  std::ifstream f(testdata("effective_field/expected.json"));
  return nlohmann::json::parse(f);
}

model::Box box_of(const nlohmann::json& j) {
  return {j[0].get<int64_t>(), j[1].get<int64_t>(), j[2].get<int64_t>(), j[3].get<int64_t>()};
}

std::unique_ptr<model::Model> stack() {
  model::InputSpec in;
  in.height = in.width = 64;
  return model::load_torchscript(testdata("effective_field/stack_scripted.pt"), in);
}

}  // namespace

TEST(EffectiveField, MatchesTheClosedFormOfAConstantConvStack) {
  auto e = expected();
  auto m = stack();
  const model::Tap tap = model::parse_tap("conv4");
  auto unit = [&](const torch::Tensor& t) { return model::unit_at(t, tap, 32, 32); };
  model::EffectiveFieldOptions opt;
  auto field = model::effective_receptive_field(*m, tap, unit, opt);
  std::vector<float> flat;
  for (const auto& row : e["map"]) {
    for (double v : row) flat.push_back(static_cast<float>(v));
  }
  EXPECT_LT((field.map - torch::tensor(flat).view({64, 64})).abs().max().item<double>(), 1e-4);
  EXPECT_EQ(field.box, box_of(e["box_0.05"]));
  opt.threshold = 0.2;
  EXPECT_EQ(model::effective_receptive_field(*m, tap, unit, opt).box, box_of(e["box_0.2"]));
  // The gradient's support is wider: the crop before the fix.
  auto support = model::receptive_field(*m, tap, 32, 32);
  EXPECT_EQ(support, box_of(e["support"]));
  EXPECT_GT(model::square_box(support, 64, 64).height(), field.box.height());
}

TEST(EffectiveField, FeatureCropsUseTheEffectiveField) {
  auto e = expected();
  auto m = stack();
  auto f = feature::parse_feature("conv4:1@32,32");
  EXPECT_EQ(analysis::feature_field(*m, f), box_of(e["box_0.05"]));
  model::EffectiveFieldOptions atlas;
  atlas.threshold = 0.2;
  EXPECT_EQ(analysis::feature_field(*m, f, atlas), box_of(e["box_0.2"]));
  // A feature without positions sees the whole image.
  auto fmnist = tension::testing::zoo_model("fmnist-cnn");
  EXPECT_EQ(analysis::feature_field(*fmnist, feature::parse_feature("fc1:3")), (model::Box{0, 0, 28, 28}));
}

TEST(EffectiveField, BadOptionsAreClearErrors) {
  auto m = stack();
  const model::Tap tap = model::parse_tap("conv4");
  auto unit = [&](const torch::Tensor& t) { return model::unit_at(t, tap, 32, 32); };
  model::EffectiveFieldOptions opt;
  opt.threshold = 1.5;
  EXPECT_NE(tension::testing::error_of([&] { model::effective_receptive_field(*m, tap, unit, opt); }).find("threshold"),
            std::string::npos);
}

TEST(Boxes, SquareAndScaleAsThePaperCode) {
  // The shorter side grows on both sides; at an edge the square shifts inward.
  EXPECT_EQ(model::square_box({28, 20, 37, 45}, 64, 64), (model::Box{20, 20, 45, 45}));
  EXPECT_EQ(model::square_box({0, 10, 4, 20}, 64, 64), (model::Box{0, 10, 10, 20}));
  EXPECT_EQ(model::square_box({60, 0, 64, 30}, 64, 64), (model::Box{34, 0, 64, 30}));
  EXPECT_EQ(model::square_box({}, 64, 64).height(), 0);
  // scale_crop_bounds: 224 grid to 512, rounded (80 * 512 / 224 = 182.86, 155 * 512 / 224 = 354.29).
  EXPECT_EQ(model::scale_box({80, 80, 155, 155}, 224, 224, 512, 512), (model::Box{183, 183, 354, 354}));
  // field_crop on a canvas: the crop of a 28 grid's box drawn at the canvas size.
  auto img = torch::zeros({1, 56, 56});
  img.slice(1, 20, 40).slice(2, 20, 40).fill_(1);
  auto c = analysis::field_crop(img, {10, 10, 20, 20}, [] {
    model::InputSpec in;
    in.channels = 1;
    in.height = in.width = 28;
    return in;
  }());
  EXPECT_EQ(c.sizes(), (std::vector<int64_t>{1, 56, 56}));
  EXPECT_GT(c.min().item<double>(), 0.99);  // the box holds only the bright square
}
