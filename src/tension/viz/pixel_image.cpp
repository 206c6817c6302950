// The pixel parameterisation: one decorrelated logit per pixel and channel.
#include "tension/viz/image_options.h"

namespace tension::viz {

namespace {

class PixelImage : public Parameterization {
 public:
  explicit PixelImage(const ImageOptions& opt) {
    check_image_options(opt);
    if (opt.seed_images.defined()) {
      z_ = seed_logits(opt.seed_images.to(torch::kFloat));
    } else {
      z_ = initial_values(opt, {opt.channels, opt.size, opt.size}, Draw::Normal) * 0.01;
    }
    z_ = z_.to(opt.device).detach().requires_grad_(true);
  }
  std::vector<torch::Tensor> parameters() const override { return {z_}; }
  torch::Tensor render() const override { return to_valid_image(z_); }

 private:
  torch::Tensor z_;
};

}  // namespace

std::unique_ptr<Parameterization> pixel_image(const ImageOptions& opt) { return std::make_unique<PixelImage>(opt); }

}  // namespace tension::viz
