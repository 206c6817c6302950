#pragma once
// Image parameterisations P^-1(z) of eq. 4 (paper §4; docs/paper-code.md §2.8.1): what the optimiser
// changes, and how it becomes a batch of images in (0, 1). Every parameterisation works in decorrelated colour
// (viz/color.h) and ends in a sigmoid; each can start from noise (inversion, feature visualisation) or from seed
// images (accentuation), for any canvas size and for grey (C = 1) or RGB (C = 3) models.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace tension::viz {

class Parameterization {
 public:
  virtual ~Parameterization() = default;
  // The tensors the optimiser changes (leaves that require grad).
  virtual std::vector<torch::Tensor> parameters() const = 0;
  // The images [B, C, H, W] in (0, 1), differentiable in parameters().
  virtual torch::Tensor render() const = 0;
};

// Batch, channels and size have no default (the parameterisations throw when they are left at 0):
// ImageOptions{batch, channels, size}.
struct ImageOptions {
  int64_t batch = 0;
  int64_t channels = 0;   // 1 (grey) or 3 (RGB)
  int64_t size = 0;       // square canvas side
  uint64_t seed = 0;      // random initial values (noise mode)
  // One seed per image (noise mode): image b's initial values come from item_seeds[b] alone, so that it starts
  // the same in any batch (a batch of one with item_seeds {s} starts as one with seed s). Empty: `seed` draws
  // the whole batch.
  std::vector<uint64_t> item_seeds{};
  // [B, C, size, size] in [0, 1]: start from these images (accentuation); undefined = start from noise.
  torch::Tensor seed_images{};
  torch::Device device = torch::kCPU;
};

// Pixels: z = decorrelated logits, one per pixel and channel (noise: N(0, 0.01^2), a flat grey image).
std::unique_ptr<Parameterization> pixel_image(const ImageOptions& opt);

// Lucid's Fourier parameterisation: rfft2 coefficients scaled by 1/f (noise: N(0, 0.01^2) coefficients),
// inverse orthonormal FFT, divided by 4, recorrelated, sigmoid.
std::unique_ptr<Parameterization> fourier_image(const ImageOptions& opt);

// MACO (Fel et al. 2023): only the Fourier phase is optimised; the magnitude stays fixed.
//  - noise: magnitude = `spectrum` [C, h, w'] (a dataset's mean |rfft2| of decorrelated images, viz/spectrum.h,
//    bilinearly resized when its size differs from the canvas), phase ~ U(-pi, pi); the rendered image is
//    standardised per image before the sigmoid.
//  - seeded: magnitude and initial phase from rfft2 of the seed's decorrelated logits; a learnable gate
//    sigmoid(g), g initialised at 5, scales the magnitude (it can only attenuate); no standardisation, so step 0
//    renders the seed (up to the gate's 0.7 %).
class MacoImage : public Parameterization {
 public:
  MacoImage(const ImageOptions& opt, const torch::Tensor& spectrum);
  std::vector<torch::Tensor> parameters() const override;
  torch::Tensor render() const override;
  // The complex spectrum [B, C, size, size/2+1] that render() inverts: magnitude (times the gate) and phase.
  torch::Tensor buffer() const;
  const torch::Tensor& magnitude() const { return magnitude_; }

 private:
  int64_t size_;
  bool seeded_;
  torch::Tensor magnitude_;   // fixed
  torch::Tensor phase_;       // learnable
  torch::Tensor gate_;        // learnable (seeded mode only)
};

// The kinds by name ("pixel", "fourier", "maco"); `spectrum` is used by MACO in noise mode only.
std::unique_ptr<Parameterization> make_parameterization(const std::string& kind, const ImageOptions& opt,
                                                        const torch::Tensor& spectrum = {});

// Decorrelated logits of seed images in [0, 1] (clamped to [1e-6, 1 - 1e-6]): the inverse of sigmoid o recorrelate.
torch::Tensor seed_logits(const torch::Tensor& images);

// sigmoid(recorrelate(z)): decorrelated logits to images in (0, 1).
torch::Tensor to_valid_image(const torch::Tensor& z);

}  // namespace tension::viz
