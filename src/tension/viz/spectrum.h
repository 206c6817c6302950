#pragma once
// Magnitude spectra for MACO (docs/paper-code.md §2.8.1, §7): estimated from the user's own data
// as the mean |rfft2| of decorrelated images, rather than shipped for one dataset and one canvas size.
#include <torch/torch.h>

#include <vector>

#include "tension/data/dataset.h"

namespace tension::viz {

// Size and channels have no default (estimate_spectrum throws when they are left at 0):
// SpectrumOptions{size, channels, limit}.
struct SpectrumOptions {
  int64_t size = 0;         // images are centre-cropped and resized to size x size
  int64_t channels = 0;     // 1 or 3, as the model takes them
  size_t limit = 0;         // the first N images (0 = all)
  size_t batch_size = 64;
  int decode_threads = 2;
};

// Mean over the images of |rfft2(decorrelate(x))| with x in [0, 1]: float [C, size, size/2+1], rfft2 layout
// (DC at [0, 0]). Unreadable images are skipped (and logged); throws tension::Error when none can be read.
torch::Tensor estimate_spectrum(const data::Dataset& ds, const SpectrumOptions& opt);

// 1 / max(|f|, 1/size) on the rfft2 grid [size, size/2+1], |f| in cycles per pixel: Lucid's 1/f scale.
torch::Tensor one_over_f(int64_t size);

// A spectrum [C, h, w'] for a size x size canvas: bilinear resize to [C, size, size/2+1] when the sizes differ.
torch::Tensor fit_spectrum(const torch::Tensor& spectrum, int64_t size);

// Radial average of a spectrum: per channel, the mean magnitude at each integer frequency radius 1..size/2
// (cycles per image), and the slope of log magnitude against log radius (about -1 to -2 for natural images).
struct RadialProfile {
  std::vector<double> radius;
  std::vector<std::vector<double>> magnitude;  // [C][radius]
  std::vector<double> slope;                   // [C]
};
RadialProfile radial_profile(const torch::Tensor& spectrum);

}  // namespace tension::viz
