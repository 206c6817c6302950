// Sprite sheets (render/sprite_sheet.h): every image comes back exactly from its sheet at its place, read with
// OpenCV, and the sheets stay within their size limit.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tension/render/sprite_sheet.h"
#include "testing.h"

using namespace tension;
using tension::testing::error_of;
using tension::testing::temp_dir;

namespace {

// A sheet as OpenCV reads it, [C, H, W] bytes in RGB(A) order.
torch::Tensor read_sheet(const std::string& path) {
  cv::Mat m = cv::imread(path, cv::IMREAD_UNCHANGED);
  if (m.empty()) throw std::runtime_error("cannot read " + path);
  if (m.channels() == 3) cv::cvtColor(m, m, cv::COLOR_BGR2RGB);
  if (m.channels() == 4) cv::cvtColor(m, m, cv::COLOR_BGRA2RGBA);
  return torch::from_blob(m.data, {m.rows, m.cols, m.channels()}, torch::kUInt8).permute({2, 0, 1}).clone();
}

// n images [C, h, w] of random bytes (exact through an 8-bit PNG), as bytes and as [0, 1] floats.
std::pair<torch::Tensor, torch::Tensor> random_images(int64_t n, int64_t c, int64_t h, int64_t w) {
  torch::manual_seed(7);
  auto bytes = torch::randint(0, 256, {n, c, h, w}, torch::kLong).to(torch::kUInt8);
  return {bytes, bytes.to(torch::kFloat) / 255};
}

// Packs n random images and checks each against its place; returns the sheets' sizes.
std::vector<std::vector<int64_t>> expect_recovered(int64_t n, int64_t c, int64_t h, int64_t w, int64_t max_side,
                                                   size_t sheets) {
  const std::string dir = temp_dir("sprite_sheet");
  const std::string stem = "points/s" + std::to_string(n) + "x" + std::to_string(c);
  auto [bytes, images] = random_images(n, c, h, w);
  render::SpriteSheetWriter writer(dir, stem, n, h, w, max_side);
  std::vector<render::SpritePlace> places;
  for (int64_t i = 0; i < n; ++i) places.push_back(writer.add(images[i]));
  const auto set = writer.finish();
  EXPECT_EQ(set.width, w);
  EXPECT_EQ(set.height, h);
  EXPECT_EQ(set.files.size(), sheets);
  std::vector<torch::Tensor> read;
  std::vector<std::vector<int64_t>> sizes;
  for (size_t k = 0; k < set.files.size(); ++k) {
    EXPECT_EQ(set.files[k], stem + "-" + std::to_string(k) + ".png");
    read.push_back(read_sheet(dir + "/" + set.files[k]));
    sizes.push_back(read.back().sizes().vec());
    EXPECT_EQ(read.back().size(0), c);
    EXPECT_LE(read.back().size(1), max_side);
    EXPECT_LE(read.back().size(2), max_side);
  }
  for (int64_t i = 0; i < n; ++i) {
    const auto& p = places[static_cast<size_t>(i)];
    const bool inside = p.sheet >= 0 && p.sheet < static_cast<int64_t>(read.size()) && p.x >= 0 && p.y >= 0 &&
                        p.y + h <= read[static_cast<size_t>(p.sheet)].size(1) &&
                        p.x + w <= read[static_cast<size_t>(p.sheet)].size(2);
    EXPECT_TRUE(inside) << "sprite " << i << " at sheet " << p.sheet << " (" << p.x << ", " << p.y << ")";
    if (!inside) continue;
    const auto& sheet = read[static_cast<size_t>(p.sheet)];
    EXPECT_TRUE(torch::equal(sheet.slice(1, p.y, p.y + h).slice(2, p.x, p.x + w), bytes[i])) << "sprite " << i;
  }
  return sizes;
}

}  // namespace

TEST(SpriteSheet, OneSheetWhenTheyFit) {
  EXPECT_EQ(expect_recovered(23, 3, 5, 7, 4096, 1), (std::vector<std::vector<int64_t>>{{3, 5, 23 * 7}}));
}

// 20 px sheets hold 2 columns x 4 rows of 5x7 sprites: 19 sprites fill two sheets and 3 of a third, which is only
// as tall as its two rows.
TEST(SpriteSheet, SeveralSheetsTheLastOneShort) {
  EXPECT_EQ(expect_recovered(19, 3, 5, 7, 20, 3),
            (std::vector<std::vector<int64_t>>{{3, 20, 14}, {3, 20, 14}, {3, 10, 14}}));
}

TEST(SpriteSheet, GreyAndRgbaSprites) {
  expect_recovered(10, 1, 6, 6, 18, 2);
  expect_recovered(5, 4, 3, 2, 4096, 1);
}

TEST(SpriteSheet, MisuseIsAClearError) {
  const std::string dir = temp_dir("sprite_sheet_bad");
  auto msg = error_of([&] { render::SpriteSheetWriter(dir, "big", 1, 10, 30, 20); });
  EXPECT_NE(msg.find("at most 20 px"), std::string::npos) << msg;

  render::SpriteSheetWriter w(dir, "s", 2, 4, 4);
  msg = error_of([&] { w.add(torch::zeros({3, 4, 5})); });
  EXPECT_NE(msg.find("not [C, 4, 4]"), std::string::npos) << msg;
  w.add(torch::zeros({3, 4, 4}));
  msg = error_of([&] { w.add(torch::zeros({1, 4, 4})); });
  EXPECT_NE(msg.find("C = 3 as the first"), std::string::npos) << msg;
  msg = error_of([&] { w.finish(); });
  EXPECT_NE(msg.find("1 sprites added, 2 planned"), std::string::npos) << msg;
  w.add(torch::zeros({3, 4, 4}));
  msg = error_of([&] { w.add(torch::zeros({3, 4, 4})); });
  EXPECT_NE(msg.find("more sprites than the 2 planned"), std::string::npos) << msg;
  EXPECT_EQ(w.finish().files, std::vector<std::string>{"s-0.png"});
}
