// The atlas's interactive page: written from hand-made data over a synthetic atlas whose icon cells are flat
// colours, then driven in headless Chromium (tests/web/atlas_page.mjs): hover, zoom, pan, pin, scatter.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tension/atlas/atlas_page.h"
#include "tension/render/image_grid.h"
#include "tension/render/sprite_sheet.h"
#include "testing.h"

namespace atlas = tension::atlas;
using tension::testing::error_of;
using tension::testing::run_command;
using tension::testing::source_dir;
using tension::testing::temp_dir;

namespace {

constexpr int kGrid = 6;
constexpr int64_t kCellPx = 24;
constexpr int64_t kSprite = 8, kSheetPx = 24;  // top images' sprites: 9 to a sheet

torch::Tensor flat(const std::array<float, 3>& rgb, int64_t side) {
  return torch::tensor({rgb[0], rgb[1], rgb[2]}).view({3, 1, 1}).expand({3, side, side}).contiguous();
}

// A top image's sprite, `kind` 0 its crop and 1 its overlay: the pattern tests/web/atlas_page.mjs checks (byte
// values, exact through PNG).
torch::Tensor sprite(int64_t index, int kind) {
  auto x = torch::arange(kSprite).view({1, kSprite}).expand({kSprite, kSprite});
  auto y = torch::arange(kSprite).view({kSprite, 1}).expand({kSprite, kSprite});
  auto channels = kind == 0 ? std::vector<torch::Tensor>{37 * index + 16 * x, 16 * y, torch::full_like(x, 60)}
                            : std::vector<torch::Tensor>{torch::full_like(x, 255 - 37 * index), 16 * x, 16 * y};
  return torch::stack(channels).remainder(256).to(torch::kFloat) / 255;
}

// Icon cells in a block at the lower left plus one at the top right; the rest (e.g. the lower right) is empty.
// Each icon cell gets a distinct flat colour, on the atlas and in its icon file alike, and seven points. The top
// images' sprites fill two sheets of each set.
atlas::AtlasPageData make_page(const std::string& dir) {
  const std::vector<std::pair<int, int>> at = {{1, 1}, {2, 1}, {1, 2}, {2, 2}, {0, 0}, {5, 5}};
  const std::vector<std::array<float, 3>> colour = {
      {0.9f, 0.1f, 0.1f}, {0.1f, 0.7f, 0.2f}, {0.2f, 0.3f, 0.9f}, {0.9f, 0.8f, 0.1f}, {0.6f, 0.2f, 0.7f},
      {0.1f, 0.8f, 0.8f}};
  std::filesystem::create_directories(dir + "/icons");
  atlas::AtlasPageData d;
  d.title = "atlas page test";
  d.atlas_png = "atlas.png";
  d.atlas_px = kGrid * kCellPx;
  d.grid = kGrid;
  d.fv_lo = -2;
  d.fv_hi = 2;
  d.feature = "conv2:0";
  d.layer = "relu1";
  auto image = torch::ones({3, d.atlas_px, d.atlas_px});
  int64_t next = 0;
  for (size_t c = 0; c < at.size(); ++c) {
    const auto [xi, yi] = at[c];
    const int64_t row = kGrid - 1 - yi;  // y up: row 0 of the picture is the top cell row
    image.slice(1, row * kCellPx, (row + 1) * kCellPx).slice(2, xi * kCellPx, (xi + 1) * kCellPx)
        .copy_(flat(colour[c], kCellPx));
    atlas::PageCell cell;
    cell.xi = xi;
    cell.yi = yi;
    cell.count = 7;
    cell.fv = -1.5 + 0.5 * static_cast<double>(c);
    cell.mean_fv = 0.25 * static_cast<double>(c) - 0.6;
    cell.icon = "icons/" + std::to_string(xi) + "_" + std::to_string(yi) + ".png";
    tension::render::write_png(dir + "/" + cell.icon, flat(colour[c], kCellPx));
    for (int j = 0; j < 7; ++j) {
      d.points.push_back({(xi + 0.15 + 0.1 * j) / kGrid, (yi + 0.2 + 0.09 * j) / kGrid, cell.fv + 0.01 * j, next++});
    }
    // Cell (1, 1) has three top images, one without an overlay; the others one or two.
    const int tops = c == 0 ? 3 : 1 + static_cast<int>(c % 2);
    for (int t = 0; t < tops; ++t) {
      atlas::PageImage im;
      im.index = next - 1 - t;
      im.id = t == 1 ? "img \"quoted\" <b>bold</b> & 'more'.png" : "images/" + std::to_string(im.index) + ".png";
      im.fv = cell.fv - 0.1 * t;
      if (!(c == 0 && t == 2)) im.overlay.emplace();
      cell.top.push_back(im);
    }
    d.cells.push_back(cell);
  }
  // A few lone images in empty cells.
  for (auto [x, y] : std::vector<std::pair<double, double>>{{4.5, 1.5}, {3.4, 0.6}, {5.5, 2.5}}) {
    d.points.push_back({x / kGrid, y / kGrid, 0.3, next++});
  }
  tension::render::write_png(dir + "/" + d.atlas_png, image);
  int64_t crops = 0, overlays = 0;
  for (const auto& c : d.cells) {
    for (const auto& t : c.top) {
      ++crops;
      overlays += t.overlay.has_value();
    }
  }
  tension::render::SpriteSheetWriter crop_sheets(dir, "top images/crop", crops, kSprite, kSprite, kSheetPx);
  tension::render::SpriteSheetWriter overlay_sheets(dir, "top images/overlay", overlays, kSprite, kSprite, kSheetPx);
  for (auto& c : d.cells) {
    for (auto& t : c.top) {
      t.crop = crop_sheets.add(sprite(t.index, 0));
      if (t.overlay) t.overlay = overlay_sheets.add(sprite(t.index, 1));
    }
  }
  d.crops = crop_sheets.finish();
  d.overlays = overlay_sheets.finish();
  EXPECT_EQ(d.crops.files.size(), 2u);
  EXPECT_EQ(d.overlays.files.size(), 2u);
  return d;
}

bool have_browser() {
  const char* chromium = std::getenv("CHROMIUM");
  return run_command("command -v node") == 0 && std::filesystem::exists(chromium ? chromium : "/usr/bin/chromium");
}

}  // namespace

TEST(AtlasPage, HoverZoomAndPanInTheBrowser) {
  const std::string dir = temp_dir("atlas_page");
  const auto data = make_page(dir);
  atlas::write_atlas_page(dir + "/atlas.html", data);

  std::ifstream in(dir + "/atlas.html");
  std::stringstream html;
  html << in.rdbuf();
  EXPECT_EQ(html.str().find("<b>bold"), std::string::npos) << "an image id reached the page unescaped";
  EXPECT_NE(html.str().find("conv2:0 at relu1"), std::string::npos);

  if (!have_browser()) GTEST_SKIP() << "needs node and Chromium (/usr/bin/chromium or $CHROMIUM)";
  std::string out;
  ASSERT_EQ(run_command("node " + source_dir("tests/web/atlas_page.mjs") + " '" + dir + "/atlas.html' --check-colours",
                        &out),
            0)
      << out;
  EXPECT_NE(out.find("ok 45 points; cell (1, 1) with 3 top images"), std::string::npos) << out;
  EXPECT_NE(out.find("colours and sprites match"), std::string::npos) << out;
}

TEST(AtlasPage, InconsistentDataIsAClearError) {
  const std::string dir = temp_dir("atlas_page_bad");
  const auto good = make_page(dir);
  const std::string page = dir + "/atlas.html";
  auto expect = [&](atlas::AtlasPageData d, const std::string& part) {
    const std::string msg = error_of([&] { atlas::write_atlas_page(page, d); });
    EXPECT_NE(msg.find(part), std::string::npos) << msg;
  };

  auto d = good;
  d.atlas_px = 145;
  expect(d, "145 px a side, not a positive multiple of the grid's 6 cells");
  d = good;
  d.cells[2].xi = 6;
  expect(d, "cell (6, 2) is outside the 6x6 grid");
  d = good;
  d.cells[1].yi = -1;
  expect(d, "cell (2, -1) is outside");
  d = good;
  d.cells[1] = d.cells[0];
  expect(d, "cell (1, 1) is given twice");
  d = good;
  d.points[3].y = 1.5;
  expect(d, "point of image 3 at (0.241667, 1.500000) is outside the normalised layout");
  d = good;
  d.fv_hi = d.fv_lo;
  expect(d, "fv_lo < fv_hi");
  d = good;
  d.grid = 0;
  expect(d, "at least 1 cell");
  d = good;
  d.cells[0].top[1].overlay->sheet = 2;
  expect(d, "a picture of image 5 in cell (1, 1) is on no sprite sheet");
  EXPECT_FALSE(std::filesystem::exists(page));
}
