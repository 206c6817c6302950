// MACO's phase-only parameterisation (Fel et al. 2023; docs/paper-code.md §2.8.1).
#include <cmath>

#include "tension/core/error.h"
#include "tension/viz/color.h"
#include "tension/viz/image_options.h"
#include "tension/viz/spectrum.h"

namespace tension::viz {

namespace {

// sigmoid(5) = 0.9933: the seed's magnitude, nearly untouched at step 0 (the paper code's initial gate).
constexpr double kGateInit = 5.0;

}  // namespace

MacoImage::MacoImage(const ImageOptions& opt, const torch::Tensor& spectrum)
    : size_(opt.size), seeded_(opt.seed_images.defined()) {
  check_image_options(opt);
  const int64_t w = size_ / 2 + 1;
  if (seeded_) {
    auto f = torch::fft::rfft2(seed_logits(opt.seed_images.to(torch::kFloat)).to(opt.device));
    magnitude_ = f.abs();
    phase_ = torch::angle(f).detach().requires_grad_(true);
    gate_ = torch::full_like(magnitude_, kGateInit).requires_grad_(true);
    return;
  }
  if (!spectrum.defined()) {
    throw Error("MACO from noise needs a magnitude spectrum (tension spectrum DATA writes one)");
  }
  if (spectrum.dim() != 3 || spectrum.size(0) != opt.channels) {
    throw Error("the magnitude spectrum must be [" + std::to_string(opt.channels) + ", H, W/2+1] for this model, got " +
                c10::str(spectrum.sizes()));
  }
  magnitude_ = fit_spectrum(spectrum, size_).to(opt.device).unsqueeze(0);
  auto phase = (initial_values(opt, {opt.channels, size_, w}, Draw::Uniform) * 2 - 1) * M_PI;
  phase_ = phase.to(opt.device).requires_grad_(true);
}

std::vector<torch::Tensor> MacoImage::parameters() const {
  if (seeded_) return {phase_, gate_};
  return {phase_};
}

torch::Tensor MacoImage::buffer() const {
  auto mag = seeded_ ? magnitude_ * torch::sigmoid(gate_) : magnitude_.expand_as(phase_);
  return torch::polar(mag, phase_);
}

torch::Tensor MacoImage::render() const {
  auto d = torch::fft::irfft2(buffer(), std::vector<int64_t>{size_, size_});
  auto z = recorrelate(d);
  if (!seeded_) {
    // Only the spectrum's shape is given, not its scale: standardise each image (torch.std is unbiased).
    auto mean = z.mean({1, 2, 3}, true);
    auto sd = z.std({1, 2, 3}, true, true);
    z = (z - mean) / (sd + 1e-4);
  }
  return torch::sigmoid(z);
}

}  // namespace tension::viz
