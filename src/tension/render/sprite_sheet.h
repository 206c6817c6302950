#pragma once
// Sprite sheets, as TensorBoard's embedding projector ships its thumbnails: many equal-size images packed into a
// few PNGs at their own resolution, so that an interactive page loads a handful of files instead of one per
// image and scales each sprite in the browser (vega_page.h's drawSprite).
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace at {
class Tensor;
}

namespace tension::render {

// Where one sprite lies: sheet `sheet` of its set, top-left pixel (x, y), x to the right, y down.
struct SpritePlace {
  int64_t sheet = 0, x = 0, y = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SpritePlace, sheet, x, y)

// A set of sheets as a page reads it: the files (relative to the page), and one sprite's size in pixels.
struct SpriteSet {
  std::vector<std::string> files;
  int64_t width = 0, height = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SpriteSet, files, width, height)

// Packs `count` images of height x width pixels, in the order added, row by row into sheets of at most
// `max_side` pixels a side (4096 is safe for every browser), written as ROOT/STEM-K.png. A sheet is written as
// soon as it is full, so that one sheet is held at a time.
class SpriteSheetWriter {
 public:
  SpriteSheetWriter(std::string root, std::string stem, int64_t count, int64_t height, int64_t width,
                    int64_t max_side = 4096);
  // image: [C, height, width] in [0, 1], C = 1, 3 or 4, the same C for every image of the set.
  SpritePlace add(const at::Tensor& image);
  // Writes the last sheet and returns the set; throws tension::Error unless `count` images were added.
  SpriteSet finish();

 private:
  std::string root_, stem_;
  SpriteSet set_;
  int64_t count_, added_ = 0, columns_, rows_;  // rows_: sprite rows in a full sheet
  int64_t channels_ = 0;
  std::vector<uint8_t> sheet_;  // the open sheet, [rows_ * height, columns_ * width, channels_]

  void write_sheet();
};

}  // namespace tension::render
