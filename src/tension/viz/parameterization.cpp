#include "tension/viz/parameterization.h"

#include <ATen/CPUGeneratorImpl.h>

#include "tension/core/error.h"
#include "tension/viz/color.h"
#include "tension/viz/image_options.h"

namespace tension::viz {

torch::Tensor seed_logits(const torch::Tensor& images) {
  return decorrelate(torch::logit(images.clamp(1e-6, 1 - 1e-6)));
}

torch::Tensor to_valid_image(const torch::Tensor& z) { return torch::sigmoid(recorrelate(z)); }

void check_image_options(const ImageOptions& opt) {
  if (opt.batch < 1) throw Error("an image batch needs at least one image");
  if (opt.channels != 1 && opt.channels != 3) {
    throw Error("images have 1 or 3 channels, not " + std::to_string(opt.channels));
  }
  if (opt.size < 2) throw Error("the canvas must be at least 2 pixels wide, got " + std::to_string(opt.size));
  const auto& s = opt.seed_images;
  if (s.defined()) {
    std::vector<int64_t> want{opt.batch, opt.channels, opt.size, opt.size};
    if (s.sizes() != c10::IntArrayRef(want)) {
      throw Error("seed images must be " + c10::str(c10::IntArrayRef(want)) + ", got " + c10::str(s.sizes()));
    }
  }
  if (!opt.item_seeds.empty() && static_cast<int64_t>(opt.item_seeds.size()) != opt.batch) {
    throw Error("one item seed per image is needed: " + std::to_string(opt.item_seeds.size()) + " for " +
                std::to_string(opt.batch) + " images");
  }
}

torch::Tensor initial_values(const ImageOptions& opt, std::vector<int64_t> item_shape, Draw draw) {
  auto sample = [&](int64_t n, uint64_t seed) {
    auto shape = item_shape;
    shape.insert(shape.begin(), n);
    auto g = at::make_generator<at::CPUGeneratorImpl>(seed);
    return draw == Draw::Normal ? torch::randn(shape, g) : torch::rand(shape, g);
  };
  if (opt.item_seeds.empty()) return sample(opt.batch, opt.seed);
  std::vector<torch::Tensor> items;
  for (uint64_t s : opt.item_seeds) items.push_back(sample(1, s));
  return torch::cat(items);
}

std::unique_ptr<Parameterization> make_parameterization(const std::string& kind, const ImageOptions& opt,
                                                        const torch::Tensor& spectrum) {
  if (kind == "pixel") return pixel_image(opt);
  if (kind == "fourier") return fourier_image(opt);
  if (kind == "maco") return std::make_unique<MacoImage>(opt, spectrum);
  throw Error("unknown image parameterisation '" + kind + "' (use maco, fourier or pixel)");
}

}  // namespace tension::viz
