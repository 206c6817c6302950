#pragma once
// Composes images into one grid picture and writes PNGs.
#include <torch/torch.h>

#include <string>
#include <vector>

namespace tension::render {

struct GridOptions {
  int64_t columns = 8;
  int64_t cell = 0;        // cell side in pixels; 0 = the images' own size
  int64_t padding = 2;
  double background = 1.0;  // grey level of the padding, in [0, 1]
  std::vector<std::string> column_labels;  // drawn in a strip above the columns (none when empty)
};

// images: [N, C, H, W] in [0, 1], C = 1, 3 or 4 (RGBA composited over the background). Returns [3, H', W'].
torch::Tensor image_grid(const torch::Tensor& images, const GridOptions& opt = {});

// [C, H, W] (C = 1 or 3) as RGBA with alpha 1, to sit beside RGBA images in one grid.
torch::Tensor opaque_rgba(const torch::Tensor& img);

// [C, H, W] in [0, 1] as the bytes an 8-bit PNG stores: uint8, 0 to 255, rounded.
torch::Tensor to_bytes(const torch::Tensor& image);

// Writes [C, H, W] in [0, 1], or bytes from to_bytes (C = 1, 3 or 4), as an 8-bit PNG; throws tension::Error on
// failure.
void write_png(const std::string& path, const torch::Tensor& image);

}  // namespace tension::render
