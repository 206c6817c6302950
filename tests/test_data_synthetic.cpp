// Synthetic datasets: deterministic per seed, labelled as documented in synthetic.h.
#include <gtest/gtest.h>

#include <cmath>

#include "tension/core/error.h"
#include "tension/data/dataset.h"

namespace {

using namespace tension;

std::string error_of(const std::string& spec) {
  try {
    data::open_dataset(spec);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(DataSynthetic, SameSeedSameItemsOtherSeedOtherItems) {
  for (std::string name : {"noise", "gratings", "blobs"}) {
    auto a = data::open_dataset("synthetic:" + name + "?n=6&size=24&seed=5");
    auto b = data::open_dataset("synthetic:" + name + "?n=6&size=24&seed=5");
    auto c = data::open_dataset("synthetic:" + name + "?n=6&size=24&seed=6");
    ASSERT_EQ(a->size(), 6u);
    for (size_t i = 0; i < a->size(); ++i) {
      auto x = a->load(i);
      EXPECT_EQ(x.sizes(), torch::IntArrayRef({3, 24, 24})) << name;
      EXPECT_TRUE(torch::equal(x, a->load(i))) << name << " #" << i;
      EXPECT_TRUE(torch::equal(x, b->load(i))) << name << " #" << i;
      EXPECT_FALSE(torch::equal(x, c->load(i))) << name << " #" << i;
      EXPECT_GE(x.min().item<float>(), 0.0f) << name;
      EXPECT_LE(x.max().item<float>(), 1.0f) << name;
    }
    EXPECT_FALSE(torch::equal(a->load(0), a->load(1))) << name;
    EXPECT_NE(data::listing_hash(*a), data::listing_hash(*c)) << name;
  }
}

TEST(DataSynthetic, DefaultsIdsAndClasses) {
  auto g = data::open_dataset("synthetic:gratings?channels=1&classes=3");
  EXPECT_EQ(g->size(), 64u);
  EXPECT_EQ(g->load(0).sizes(), torch::IntArrayRef({1, 32, 32}));
  EXPECT_EQ(g->id(4), "synthetic:gratings?n=64&size=32&channels=1&seed=0&classes=3#4");
  EXPECT_EQ(g->label(4), 1);
  EXPECT_EQ(g->class_names(), (std::vector<std::string>{"0deg", "60deg", "120deg"}));
  auto b = data::open_dataset("synthetic:blobs?classes=2");
  EXPECT_EQ(b->class_names(), (std::vector<std::string>{"1 blob", "2 blobs"}));
  auto n = data::open_dataset("synthetic:noise");
  EXPECT_EQ(n->label(3), -1);
  EXPECT_TRUE(n->class_names().empty());
}

// The label of a grating is its orientation bin: recover the orientation from the image's structure tensor.
TEST(DataSynthetic, GratingLabelIsOrientationBin) {
  const int classes = 6;
  auto ds = data::open_dataset("synthetic:gratings?n=36&size=96&channels=1&classes=6&seed=3");
  for (size_t i = 0; i < ds->size(); ++i) {
    auto x = ds->load(i)[0].to(torch::kDouble);
    auto gx = x.slice(1, 1) - x.slice(1, 0, -1);
    auto gy = x.slice(0, 1) - x.slice(0, 0, -1);
    gx = gx.slice(0, 0, -1);
    gy = gy.slice(1, 0, -1);
    double sxx = (gx * gx).sum().item<double>(), syy = (gy * gy).sum().item<double>();
    double sxy = (gx * gy).sum().item<double>();
    double theta = 0.5 * std::atan2(2 * sxy, sxx - syy) * 180.0 / 3.14159265358979323846;  // wave direction, degrees
    if (theta < 0) theta += 180.0;
    double lo = 180.0 * double(ds->label(i)) / classes, hi = lo + 180.0 / classes;
    auto circular = [](double a) {  // distance between orientations, which repeat every 180°
      a = std::fmod(std::fabs(a), 180.0);
      return std::min(a, 180.0 - a);
    };
    double off = theta >= lo && theta <= hi ? 0.0 : std::min(circular(theta - lo), circular(theta - hi));
    EXPECT_LE(off, 3.0) << "item " << i << ": orientation " << theta << " outside bin [" << lo << ", " << hi << ")";
  }
}

TEST(DataSynthetic, BadSpecsAreErrors) {
  EXPECT_NE(error_of("synthetic:stripes").find("noise, gratings, blobs"), std::string::npos);
  EXPECT_NE(error_of("synthetic:noise?colour=2").find("colour=2"), std::string::npos);
  EXPECT_NE(error_of("synthetic:noise?n=x").find("non-negative integer"), std::string::npos);
  EXPECT_NE(error_of("synthetic:noise?n=-3").find("non-negative integer"), std::string::npos);
  EXPECT_NE(error_of("synthetic:noise?channels=2").find("channels"), std::string::npos);
  EXPECT_NE(error_of("synthetic:noise?n=0").find("n must be"), std::string::npos);
}

}  // namespace
