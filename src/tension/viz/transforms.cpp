#include "tension/viz/transforms.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>

#include <algorithm>
#include <cmath>
#include <mutex>

#include "tension/core/error.h"
#include "tension/model/input_range.h"

namespace tension::viz {

namespace {

// A generator on `device`: its own for the CPU; the device's default one, reseeded, elsewhere (noise is drawn
// where the images live, so that a GPU run copies none per step).
at::Generator device_generator(torch::Device device, uint64_t seed) {
  if (device.is_cpu()) return at::make_generator<at::CPUGeneratorImpl>(seed);
  auto g = at::globalContext().defaultGenerator(device);
  std::lock_guard<std::mutex> lock(g.mutex());
  g.set_current_seed(seed);
  return g;
}

}  // namespace

Transforms::Transforms(TransformOptions opt, model::InputSpec input, uint64_t seed, torch::Device device)
    : opt_(opt),
      input_(std::move(input)),
      cpu_(at::make_generator<at::CPUGeneratorImpl>(seed)),
      device_gen_(device_generator(device, seed + 1)),
      device_(device) {
  if (opt_.count < 1) throw Error("at least one transformation draw per step is needed");
  if (!(opt_.box_min > 0 && opt_.box_min <= opt_.box_max && opt_.box_max <= 1)) {
    throw Error("crop sides must satisfy 0 < min <= max <= 1");
  }
  if (opt_.box_loc_std < 0 || opt_.noise_std < 0 || opt_.noise_uniform < 0) {
    throw Error("transformation spreads must be >= 0");
  }
}

model::Box Transforms::draw_box(int64_t size) {
  auto u = torch::rand({3}, cpu_);
  auto n = torch::randn({2}, cpu_);
  double side = opt_.box_min + (opt_.box_max - opt_.box_min) * u[0].item<double>();
  auto centre = [&](int i) {
    return std::clamp(0.5 + opt_.box_loc_std * n[i].item<double>(), side / 2, 1 - side / 2);
  };
  double cy = centre(0), cx = centre(1);
  // Integer truncation of the bounds, as the paper's code; at least one pixel.
  int64_t top = static_cast<int64_t>((cy - side / 2) * size), left = static_cast<int64_t>((cx - side / 2) * size);
  int64_t s = std::max<int64_t>(1, static_cast<int64_t>(side * size));
  top = std::clamp<int64_t>(top, 0, size - s);
  left = std::clamp<int64_t>(left, 0, size - s);
  return {top, left, top + s, left + s};
}

torch::Tensor Transforms::operator()(const torch::Tensor& images) {
  if (images.dim() != 4 || images.size(2) != images.size(3)) {
    throw Error("transforms take square images [B, C, S, S], got " + c10::str(images.sizes()));
  }
  std::vector<torch::Tensor> draws;
  for (int64_t t = 0; t < opt_.count; ++t) {
    auto b = draw_box(images.size(2));
    auto x = images.slice(2, b.top, b.bottom).slice(3, b.left, b.right);
    auto shape = std::vector<int64_t>{1, x.size(1), x.size(2), x.size(3)};
    auto opts = x.options().requires_grad(false);
    auto noise = torch::randn(shape, device_gen_, opts) * opt_.noise_std +
                 (torch::rand(shape, device_gen_, opts) * 2 - 1) * opt_.noise_uniform;
    draws.push_back(resize_to_input(x + noise, input_));
  }
  return model::to_model_range(torch::cat(draws, 0), input_);
}

torch::Tensor resize_to_input(const torch::Tensor& images, const model::InputSpec& input) {
  if (images.size(2) == input.height && images.size(3) == input.width) return images;
  namespace F = torch::nn::functional;
  return F::interpolate(images, F::InterpolateFuncOptions()
                                    .size(std::vector<int64_t>{input.height, input.width})
                                    .mode(torch::kBilinear)
                                    .align_corners(true)
                                    .antialias(true));
}

}  // namespace tension::viz
