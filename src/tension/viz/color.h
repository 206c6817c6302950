#pragma once
// Lucid's colour decorrelation (docs/paper-code.md §2.8.1): image parameterisations optimise
// decorrelated colour channels; rendering recorrelates them with the normalised square root of ImageNet's
// colour covariance. Grey images ([.., 1, H, W]) have one channel and pass through unchanged.
#include <torch/torch.h>

namespace tension::viz {

// The 3x3 matrix M with rgb = M d per pixel: Lucid's color_correlation_svd_sqrt divided by its largest column norm.
torch::Tensor color_correlation();

// d [.., C, H, W] -> rgb = M d per pixel (C = 3); the identity for C = 1.
torch::Tensor recorrelate(const torch::Tensor& d);

// The inverse: rgb [.., C, H, W] -> d = M^-1 rgb per pixel (C = 3); the identity for C = 1.
torch::Tensor decorrelate(const torch::Tensor& rgb);

}  // namespace tension::viz
