// The ± colour scale (docs/paper-code.md §2.6) at its corners, against the jet breakpoints and the
// formulas computed here independently; the image grid those pictures are composed in.
#include <gtest/gtest.h>

#include "tension/render/image_grid.h"
#include "tension/render/posneg.h"
#include "testing.h"

using namespace tension;

namespace {

// One overlay pixel for uniform maps p, n (already in [0, 1] after thresholding with range [0, 1]).
std::vector<float> pixel(float p, float n) {
  render::PosNegRange r{0, 1, 0, 1};
  auto rgba = render::posneg_overlay(torch::full({4, 4}, p), torch::full({4, 4}, n), r, 8, 8, 0);
  auto px = rgba.index({torch::indexing::Slice(), 3, 3});
  return {px[0].item<float>(), px[1].item<float>(), px[2].item<float>(), px[3].item<float>()};
}

}  // namespace

TEST(PosNegColour, CornersOfTheScale) {
  auto red = pixel(1, 0);      // jet(1) = (0.5, 0, 0), opaque
  EXPECT_NEAR(red[0], 0.5, 1e-6);
  EXPECT_NEAR(red[1], 0, 1e-6);
  EXPECT_NEAR(red[2], 0, 1e-6);
  EXPECT_NEAR(red[3], 1, 1e-6);
  auto blue = pixel(0, 1);     // jet(0) = (0, 0, 0.5), opaque
  EXPECT_NEAR(blue[0], 0, 1e-6);
  EXPECT_NEAR(blue[1], 0, 1e-6);
  EXPECT_NEAR(blue[2], 0.5, 1e-6);
  EXPECT_NEAR(blue[3], 1, 1e-6);
  auto green = pixel(1, 1);    // jet(0.5): R = B = 0.15 / 0.31, G = 1
  EXPECT_NEAR(green[0], 0.15 / 0.31, 1e-5);
  EXPECT_NEAR(green[1], 1, 1e-6);
  EXPECT_NEAR(green[2], 1 - 0.16 / 0.31, 1e-5);
  EXPECT_NEAR(green[3], 1, 1e-6);
  EXPECT_NEAR(pixel(0, 0)[3], 0, 1e-7) << "neither: transparent";
  EXPECT_NEAR(pixel(0.3f, 0.6f)[3], 0.6, 1e-6) << "opacity = max(phi+, phi-)";
}

TEST(PosNegColour, ThresholdsAndRanges) {
  auto m = render::thresholded_linear_map(torch::tensor({0.f, 1.f, 2.f, 3.f, 4.f}), 1, 3);
  EXPECT_TRUE(torch::allclose(m, torch::tensor({0.f, 0.f, 0.5f, 1.f, 1.f})));
  // P50 / P95 pooled over both maps of a set: values 0..99 split across two maps.
  auto a = torch::arange(0, 50, torch::kFloat), b = torch::arange(50, 100, torch::kFloat);
  auto r = render::posneg_range({a, b}, {torch::zeros({10})});
  EXPECT_NEAR(r.pos_lo, 49.5, 1e-9);
  EXPECT_NEAR(r.pos_hi, 94.05, 1e-9);
  EXPECT_NEAR(r.neg_lo, 1e-8, 1e-12) << "floored at 1e-8";
}

TEST(PosNegColour, GreyBackgroundIsDecontrasted) {
  // A two-level image: min-max normalised to {0, 1}, mean 0.5 -> (g - 0.5) * 0.4 + 0.75 = {0.55, 0.95}.
  auto img = torch::zeros({3, 2, 2});
  img.index_put_({torch::indexing::Slice(), 0}, 0.8);
  img.index_put_({torch::indexing::Slice(), 1}, 0.2);
  auto out = render::composite_over_grey(img, torch::zeros({4, 2, 2}));
  EXPECT_NEAR(out[0][0][0].item<float>(), 0.95, 1e-6);
  EXPECT_NEAR(out[1][1][1].item<float>(), 0.55, 1e-6);
}

// Grid layout: images land in their cells (row-major) and labels sit in a strip above their own columns.
TEST(ImageGrid, CellsAndColumnLabels) {
  auto imgs = torch::zeros({3, 3, 20, 30});
  imgs[1].fill_(0.5);
  render::GridOptions go;
  go.columns = 2;
  go.padding = 2;
  auto grid = render::image_grid(imgs, go);
  ASSERT_EQ(grid.sizes(), (std::vector<int64_t>{3, 2 * 22 + 2, 2 * 32 + 2}));
  EXPECT_TRUE(grid.slice(1, 2, 22).slice(2, 2, 32).eq(0).all().item<bool>());
  EXPECT_TRUE(grid.slice(1, 2, 22).slice(2, 34, 64).eq(0.5).all().item<bool>());
  EXPECT_TRUE(grid.slice(1, 24, 44).slice(2, 34, 64).eq(1).all().item<bool>());  // no fourth image: background

  go.column_labels = {"", "B"};
  auto labelled = render::image_grid(imgs, go);
  const int64_t strip = labelled.size(1) - grid.size(1);
  ASSERT_GT(strip, 5);
  EXPECT_TRUE(torch::equal(labelled.slice(1, strip), grid));
  auto ink = labelled.slice(1, 0, strip).lt(0.5).any(0);  // dark text on white
  EXPECT_FALSE(ink.slice(1, 0, 33).any().item<bool>()) << "the empty label draws nothing";
  EXPECT_TRUE(ink.slice(1, 33).any().item<bool>());
}
