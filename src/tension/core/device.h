#pragma once
// Numerics on accelerators: what tension needs from a device before it runs network work there.
#include <torch/torch.h>

#include <string>

namespace tension {

// "cpu", "cuda" or "cuda:N", configured (configure_device); throws tension::Error for an unknown name or a CUDA
// device this LibTorch build or machine lacks. In a job of several MPI ranks a bare "cuda" is the GPU numbered
// by the rank's place on its machine (modulo the GPUs there).
torch::Device parse_device(const std::string& name);

// On CUDA: TF32 off for cuDNN convolutions and cuBLAS matmuls. Attributions are compared at 1e-4 (the exactness
// checks of every speed-up, the oracle tests), which TF32's 10-bit mantissa breaks. A no-op on the CPU.
void configure_device(const torch::Device& device);

// While alive on a CUDA model: cuDNN off. Its convolution backward leaves tiny non-zero gradients where the
// true gradient is zero, and gradient supports (receptive fields, footprints) read exact zeros.
class ExactZerosGuard {
 public:
  explicit ExactZerosGuard(const torch::Device& device);
  ~ExactZerosGuard();
  ExactZerosGuard(const ExactZerosGuard&) = delete;
  ExactZerosGuard& operator=(const ExactZerosGuard&) = delete;

 private:
  bool active_ = false, cudnn_was_ = true;
};

}  // namespace tension
