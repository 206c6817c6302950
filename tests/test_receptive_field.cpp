// Receptive fields, from layer arithmetic and from gradient support, against the analytic receptive field of a
// conv/pool chain computed here.
#include <gtest/gtest.h>

#include "tension/core/error.h"
#include "tension/model/receptive_field.h"
#include "tension/model/zoo/zoo.h"

using namespace tension::model;

namespace {

// Analytic receptive field of output position p through layers (kernel, stride, padding), first layer
// first: the classic back-projection [p*s - pad, p*s - pad + k - 1], clipped to the image.
std::pair<int64_t, int64_t> analytic(int64_t p, const std::vector<std::array<int64_t, 3>>& layers,
                                     int64_t size) {
  int64_t lo = p, hi = p;
  for (auto it = layers.rbegin(); it != layers.rend(); ++it) {
    auto [k, s, pad] = *it;
    lo = lo * s - pad;
    hi = hi * s - pad + k - 1;
  }
  return {std::max<int64_t>(lo, 0), std::min(hi, size - 1) + 1};
}

std::unique_ptr<Model> fmnist() {
  ZooOptions zo;
  zo.seed = 3;
  auto m = make_zoo_model("fmnist-cnn", zo);
  EXPECT_NE(m, nullptr);
  return m;
}

}  // namespace

TEST(SupportBox, FindsTheBoundingBoxAboveThreshold) {
  auto m = torch::zeros({10, 12});
  m.index_put_({3, 4}, 1.0);
  m.index_put_({6, 9}, 0.5);
  m.index_put_({8, 1}, 0.05);
  EXPECT_EQ(support_box(m, 0.1), (Box{3, 4, 7, 10}));
  EXPECT_EQ(support_box(m, 0.0), (Box{3, 1, 9, 10}));
  EXPECT_EQ(support_box(torch::zeros({4, 4})).height(), 0);
}

TEST(ReceptiveField, MatchesTheAnalyticFieldOfTheDefaultCnn) {
  auto m = fmnist();
  // conv 3x3 pad 1 stride 1, max-pool 2 stride 2.
  const std::array<int64_t, 3> conv{3, 1, 1}, pool{2, 2, 0};
  struct Case {
    std::string layer;
    std::vector<std::array<int64_t, 3>> chain;
    int64_t pos;
  };
  std::vector<Case> cases = {{"conv1", {conv}, 14},
                             {"conv2", {conv, conv}, 14},
                             {"pool1", {conv, conv, pool}, 7},
                             {"conv3", {conv, conv, pool, conv}, 7},
                             {"conv3", {conv, conv, pool, conv}, 0},
                             {"pool2", {conv, conv, pool, conv, pool}, 3}};
  for (auto method : {FieldMethod::arithmetic, FieldMethod::gradient}) {
    for (const auto& c : cases) {
      Box rf = receptive_field(*m, {c.layer, TapSide::Output}, c.pos, c.pos, {16, 1, method});
      auto [lo, hi] = analytic(c.pos, c.chain, 28);
      EXPECT_EQ(rf, (Box{lo, lo, hi, hi})) << c.layer << " @" << c.pos << " by " << to_string(method);
    }
  }
}

TEST(ReceptiveField, TapGeometryGivesShapesAndCentreFields) {
  auto m = fmnist();
  auto geo = tap_geometry(*m, {{"conv2", TapSide::Output}, {"fc1", TapSide::Output}});
  ASSERT_EQ(geo.size(), 2u);
  EXPECT_TRUE(geo[0].spatial);
  EXPECT_EQ(geo[0].shape.size(), 3u);
  EXPECT_EQ(geo[0].row, geo[0].shape[1] / 2);
  EXPECT_EQ(geo[0].rf, (Box{12, 12, 17, 17}));
  EXPECT_FALSE(geo[1].spatial);
  EXPECT_EQ(geo[1].rf, (Box{0, 0, 28, 28}));  // a fully connected unit sees every pixel
}

TEST(ReceptiveField, PositionOutsideTheLayerIsAClearError) {
  auto m = fmnist();
  try {
    receptive_field(*m, {"conv1", TapSide::Output}, 40, 0);
    FAIL() << "expected an error";
  } catch (const tension::Error& e) {
    EXPECT_NE(std::string(e.what()).find("outside layer conv1"), std::string::npos) << e.what();
  }
}
