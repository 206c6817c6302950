#include "tension/render/image_grid.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

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

// A strip [3, h, width] with each label centred over its column, in black (or white on a dark background).
torch::Tensor label_strip(const std::vector<std::string>& labels, int64_t cols, int64_t w, int64_t p, int64_t width,
                          double background) {
  const double scale = std::clamp(static_cast<double>(w) / 260.0, 0.35, 1.5);
  const int thickness = scale > 0.8 ? 2 : 1, font = cv::FONT_HERSHEY_SIMPLEX;
  int baseline = 0;
  const int text_h = cv::getTextSize("Ag", font, scale, thickness, &baseline).height;
  const int h = text_h + baseline + 2 * static_cast<int>(p) + 6;
  const int grey = static_cast<int>(std::lround(background * 255));
  cv::Mat strip(h, static_cast<int>(width), CV_8UC3, cv::Scalar(grey, grey, grey));
  const cv::Scalar ink = background < 0.5 ? cv::Scalar(255, 255, 255) : cv::Scalar(0, 0, 0);
  for (int64_t c = 0; c < std::min<int64_t>(cols, static_cast<int64_t>(labels.size())); ++c) {
    auto size = cv::getTextSize(labels[c], font, scale, thickness, &baseline);
    int x = static_cast<int>(p + c * (w + p) + (w - size.width) / 2);
    cv::putText(strip, labels[c], {std::max(0, x), h - baseline - 3}, font, scale, ink, thickness, cv::LINE_AA);
  }
  auto t = torch::from_blob(strip.data, {h, width, 3}, torch::kUInt8).permute({2, 0, 1}).to(torch::kFloat32);
  return t / 255.0;
}
}  // namespace

torch::Tensor opaque_rgba(const torch::Tensor& img) {
  auto rgb = img.size(0) == 1 ? img.expand({3, -1, -1}) : img;
  return torch::cat({rgb, torch::ones_like(img[0]).unsqueeze(0)}, 0);
}

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
  if (opt.column_labels.empty()) return grid;
  return torch::cat({label_strip(opt.column_labels, cols, w, p, grid.size(2), opt.background), grid}, 1);
}

torch::Tensor to_bytes(const torch::Tensor& image) {
  return (image.detach().cpu().clamp(0, 1) * 255).round().to(torch::kUInt8);
}

void write_png(const std::string& path, const torch::Tensor& image) {
  if (image.dim() != 3 || (image.size(0) != 1 && image.size(0) != 3 && image.size(0) != 4)) {
    throw Error("write_png needs a [C, H, W] image with C = 1, 3 or 4");
  }
  auto bytes = image.scalar_type() == torch::kUInt8 ? image.cpu() : to_bytes(image);
  auto hwc = bytes.permute({1, 2, 0}).contiguous();
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
