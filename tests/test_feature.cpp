// Feature specs: parsing, positions, unit and direction readouts against direct indexing.
#include <gtest/gtest.h>

#include "tension/core/error.h"
#include "tension/core/npy.h"
#include "tension/feature/feature.h"
#include "testing.h"

using namespace tension::feature;

TEST(Feature, ParsesUnitsPositionsAndDirections) {
  auto f = parse_feature("mixed3b:379");
  EXPECT_EQ(f.layer, "mixed3b");
  EXPECT_EQ(f.unit, 379);
  EXPECT_FALSE(f.row.has_value());
  auto g = parse_feature("features.8:in:7@3,4");
  EXPECT_EQ(g.layer, "features.8:in");
  EXPECT_EQ(g.unit, 7);
  EXPECT_EQ(*g.row, 3);
  EXPECT_EQ(*g.col, 4);

  auto dir = tension::testing::temp_dir("feature");
  tension::write_npy(dir + "/d.npy", torch::arange(12, torch::kFloat32).view({3, 4}));
  auto d = parse_feature("conv2:@" + dir + "/d.npy#2@1,0", 2);
  EXPECT_EQ(d.unit, -1);
  EXPECT_TRUE(torch::equal(d.direction, torch::tensor({8.f, 9.f, 10.f, 11.f})));
  EXPECT_EQ(*d.row, 1);
  EXPECT_EQ(d.cos_power, 2);
}

TEST(Feature, MalformedSpecsAreClearErrors) {
  for (std::string bad : {"mixed3b", "mixed3b:", ":5", "mixed3b:x", "mixed3b:5@1"}) {
    EXPECT_THROW(parse_feature(bad), tension::Error) << bad;
  }
  EXPECT_THROW(parse_feature("conv2:@/no/such.npy#0"), tension::Error);
  auto dir = tension::testing::temp_dir("feature_bad");
  tension::write_npy(dir + "/d.npy", torch::zeros({2, 4}));
  EXPECT_THROW(parse_feature("conv2:@" + dir + "/d.npy#2"), tension::Error);
}

TEST(Feature, ReadsTheCentreOrTheGivenPosition) {
  auto act = torch::randn({2, 5, 6, 7});
  auto centre = read_feature(parse_feature("x:3"), act);
  EXPECT_TRUE(torch::equal(centre, act.index({torch::indexing::Slice(), 3, 3, 3})));  // (6//2, 7//2)
  auto at = read_feature(parse_feature("x:4@5,0"), act);
  EXPECT_TRUE(torch::equal(at, act.index({torch::indexing::Slice(), 4, 5, 0})));
  EXPECT_THROW(read_feature(parse_feature("x:5"), act), tension::Error);
  EXPECT_THROW(read_feature(parse_feature("x:1@6,0"), act), tension::Error);
  auto flat = torch::randn({2, 5});
  EXPECT_TRUE(torch::equal(read_feature(parse_feature("fc:2"), flat), flat.select(1, 2)));
}

TEST(Feature, DirectionReadoutIsDotTimesCosinePower) {
  auto act = torch::randn({3, 4, 2, 2});
  Feature f;
  f.spec = "x:@v";
  f.layer = "x";
  f.direction = torch::tensor({1.f, -2.f, 0.5f, 3.f});
  auto h = act.index({torch::indexing::Slice(), torch::indexing::Slice(), 1, 1});
  auto dot = (h * f.direction).sum(1);
  EXPECT_TRUE(torch::allclose(read_feature(f, act), dot));
  f.cos_power = 2;
  auto cos = dot / (h.norm(2, 1) * f.direction.norm());
  EXPECT_TRUE(torch::allclose(read_feature(f, act), dot * cos * cos));
  // A zero hidden vector reads 0, not NaN.
  EXPECT_EQ(read_feature(f, torch::zeros({1, 4, 2, 2})).item<float>(), 0.f);
}
