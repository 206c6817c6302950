#pragma once
// Gaussian blur, for overlays (the phi maps), opacity masks and effective receptive fields.
#include <torch/torch.h>

namespace tension {

// Separable Gaussian blur of [B, C, H, W] with standard deviation sigma pixels, kernel radius ceil(4 sigma),
// reflected borders (replicated where the image is smaller than the kernel). sigma <= 0 returns x.
torch::Tensor gaussian_blur(const torch::Tensor& x, double sigma);

}  // namespace tension
