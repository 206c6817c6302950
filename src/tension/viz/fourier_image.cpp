// Lucid's Fourier parameterisation: rfft2 coefficients scaled by 1/f, so that gradient steps change low
// frequencies more than high ones (Olah et al. 2017; Lucent's fft_image).
#include "tension/viz/image_options.h"
#include "tension/viz/spectrum.h"

namespace tension::viz {

namespace {

// Lucid's 4: keeps the initial image's logits small.
constexpr double kFourierDivisor = 4.0;

class FourierImage : public Parameterization {
 public:
  explicit FourierImage(const ImageOptions& opt) : size_(opt.size) {
    check_image_options(opt);
    scale_ = one_over_f(size_).to(opt.device);
    if (opt.seed_images.defined()) {
      auto z = seed_logits(opt.seed_images.to(torch::kFloat)).to(opt.device);
      coeffs_ = torch::view_as_real(torch::fft::rfft2(z * kFourierDivisor, c10::nullopt, {-2, -1}, "ortho") / scale_);
    } else {
      coeffs_ = initial_values(opt, {opt.channels, size_, size_ / 2 + 1, 2}, Draw::Normal) * 0.01;
    }
    coeffs_ = coeffs_.to(opt.device).detach().contiguous().requires_grad_(true);
  }
  std::vector<torch::Tensor> parameters() const override { return {coeffs_}; }
  torch::Tensor render() const override {
    auto spectrum = torch::view_as_complex(coeffs_) * scale_;
    auto z = torch::fft::irfft2(spectrum, std::vector<int64_t>{size_, size_}, {-2, -1}, "ortho") / kFourierDivisor;
    return to_valid_image(z);
  }

 private:
  int64_t size_;
  torch::Tensor scale_, coeffs_;
};

}  // namespace

std::unique_ptr<Parameterization> fourier_image(const ImageOptions& opt) {
  return std::make_unique<FourierImage>(opt);
}

}  // namespace tension::viz
