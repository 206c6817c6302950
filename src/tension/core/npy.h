#pragma once
// NumPy .npy files (format 1.0, little-endian, C order): dense matrices that Python opens with np.load.
#include <torch/torch.h>

#include <string>

namespace tension {

// Writes float32, float64, int32, int64, uint8 or bool tensors; throws tension::Error on failure.
void write_npy(const std::string& path, const torch::Tensor& t);

// Reads the same dtypes (also big-endian and Fortran-order files); throws tension::Error for anything else.
torch::Tensor read_npy(const std::string& path);

}  // namespace tension
