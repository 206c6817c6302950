#include "tension/render/image_grid.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tension/core/error.h"

namespace tension::render {

namespace {
torch::Tensor to_rgb(const torch::Tensor& img, double background) {
  if (img.size(0) == 1) return img.expand({3, img.size(1), img.size(2)});
  if (img.size(0) == 4) {
    auto alpha = img.slice(0, 3, 4);
    return img.slice(0, 0, 3) * alpha + background * (1 - alpha);
  }
  return img;
}
}  // namespace

torch::Tensor image_grid(const torch::Tensor& images, const GridOptions& opt) {
  if (images.dim() != 4 || images.size(0) == 0) throw Error("image_grid needs a non-empty [N, C, H, W] batch");
  auto imgs = images.detach().cpu().to(torch::kFloat32);
  if (opt.cell > 0 && (imgs.size(2) != opt.cell || imgs.size(3) != opt.cell)) {
    // Nearest keeps the pixels of small images (28x28) crisp when enlarged.
    imgs = torch::nn::functional::interpolate(
        imgs, torch::nn::functional::InterpolateFuncOptions()
                  .size(std::vector<int64_t>{opt.cell, opt.cell})
                  .mode(torch::kNearest));
  }
  const int64_t n = imgs.size(0), h = imgs.size(2), w = imgs.size(3), p = opt.padding;
  const int64_t cols = std::min(opt.columns, n), rows = (n + cols - 1) / cols;
  auto grid = torch::full({3, rows * (h + p) + p, cols * (w + p) + p}, opt.background);
  for (int64_t i = 0; i < n; ++i) {
    int64_t r = i / cols, c = i % cols;
    grid.slice(1, p + r * (h + p), p + r * (h + p) + h).slice(2, p + c * (w + p), p + c * (w + p) + w)
        .copy_(to_rgb(imgs[i], opt.background));
  }
  return grid;
}

void write_png(const std::string& path, const torch::Tensor& image) {
  if (image.dim() != 3 || (image.size(0) != 1 && image.size(0) != 3 && image.size(0) != 4)) {
    throw Error("write_png needs a [C, H, W] image with C = 1, 3 or 4");
  }
  auto hwc = (image.detach().cpu().clamp(0, 1) * 255).round().to(torch::kUInt8).permute({1, 2, 0}).contiguous();
  const int c = static_cast<int>(hwc.size(2));
  cv::Mat m(static_cast<int>(hwc.size(0)), static_cast<int>(hwc.size(1)), CV_8UC(c), hwc.data_ptr<uint8_t>());
  cv::Mat bgr;
  if (c == 3) {
    cv::cvtColor(m, bgr, cv::COLOR_RGB2BGR);
  } else if (c == 4) {
    cv::cvtColor(m, bgr, cv::COLOR_RGBA2BGRA);
  } else {
    bgr = m;
  }
  if (!cv::imwrite(path, bgr)) throw Error("cannot write " + path);
}

}  // namespace tension::render
