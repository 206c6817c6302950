#include "tension/core/device.h"

#include <ATen/Context.h>

namespace tension {

void configure_device(const torch::Device& device) {
  if (!device.is_cuda()) return;
  at::globalContext().setAllowTF32CuDNN(false);
  at::globalContext().setAllowTF32CuBLAS(false);
}

ExactZerosGuard::ExactZerosGuard(const torch::Device& device) : active_(device.is_cuda()) {
  if (!active_) return;
  cudnn_was_ = at::globalContext().userEnabledCuDNN();
  at::globalContext().setUserEnabledCuDNN(false);
}

ExactZerosGuard::~ExactZerosGuard() {
  if (active_) at::globalContext().setUserEnabledCuDNN(cudnn_was_);
}

}  // namespace tension
