#include "tension/render/sprite_sheet.h"

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "tension/core/error.h"
#include "tension/render/image_grid.h"

namespace tension::render {

SpriteSheetWriter::SpriteSheetWriter(std::string root, std::string stem, int64_t count, int64_t height,
                                     int64_t width, int64_t max_side)
    : root_(std::move(root)), stem_(std::move(stem)), count_(count) {
  if (height < 1 || width < 1 || height > max_side || width > max_side || count < 0) {
    throw Error("sprite sheets of at most " + std::to_string(max_side) + " px a side cannot hold " +
                std::to_string(count) + " sprites of " + std::to_string(width) + "x" + std::to_string(height) +
                " px");
  }
  set_.width = width;
  set_.height = height;
  columns_ = std::max<int64_t>(1, std::min(max_side / width, count));
  rows_ = max_side / height;
  const int64_t sheets = (count + columns_ * rows_ - 1) / (columns_ * rows_);
  for (int64_t k = 0; k < sheets; ++k) set_.files.push_back(stem_ + "-" + std::to_string(k) + ".png");
  std::filesystem::create_directories(std::filesystem::path(root_ + "/" + stem_).parent_path());
}

SpritePlace SpriteSheetWriter::add(const torch::Tensor& image) {
  const int64_t h = set_.height, w = set_.width;
  if (added_ == count_) throw Error("sprite sheets " + stem_ + ": more sprites than the " + std::to_string(count_) +
                                    " planned");
  if (image.dim() != 3 || image.size(1) != h || image.size(2) != w ||
      (image.size(0) != 1 && image.size(0) != 3 && image.size(0) != 4) ||
      (channels_ != 0 && image.size(0) != channels_)) {
    std::ostringstream got;
    got << image.sizes();
    throw Error("sprite sheets " + stem_ + ": a sprite of shape " + got.str() + ", not [C, " + std::to_string(h) +
                ", " + std::to_string(w) + "] with C = " +
                (channels_ ? std::to_string(channels_) + " as the first" : std::string("1, 3 or 4")));
  }
  channels_ = image.size(0);
  const int64_t per_sheet = columns_ * rows_, k = added_ % per_sheet;
  if (k == 0) {  // a new sheet, as tall as the sprites it will hold
    const int64_t rows = std::min(rows_, (count_ - added_ + columns_ - 1) / columns_);
    sheet_.assign(static_cast<size_t>(rows * h * columns_ * w * channels_), 0);
  }
  const SpritePlace place{added_ / per_sheet, (k % columns_) * w, (k / columns_) * h};
  const int64_t sheet_h = static_cast<int64_t>(sheet_.size()) / (columns_ * w * channels_);
  torch::from_blob(sheet_.data(), {sheet_h, columns_ * w, channels_}, torch::kUInt8)
      .slice(0, place.y, place.y + h)
      .slice(1, place.x, place.x + w)
      .copy_(to_bytes(image).permute({1, 2, 0}));
  ++added_;
  if (added_ % per_sheet == 0) write_sheet();
  return place;
}

void SpriteSheetWriter::write_sheet() {
  const int64_t sheet = (added_ - 1) / (columns_ * rows_), w = columns_ * set_.width;
  const int64_t h = static_cast<int64_t>(sheet_.size()) / (w * channels_);
  write_png(root_ + "/" + set_.files[static_cast<size_t>(sheet)],
            torch::from_blob(sheet_.data(), {h, w, channels_}, torch::kUInt8).permute({2, 0, 1}));
  sheet_.clear();
}

SpriteSet SpriteSheetWriter::finish() {
  if (added_ != count_) {
    throw Error("sprite sheets " + stem_ + ": " + std::to_string(added_) + " sprites added, " + std::to_string(count_) +
                " planned");
  }
  if (!sheet_.empty()) write_sheet();
  return set_;
}

}  // namespace tension::render
