#include "tension/core/device.h"

#include <ATen/Context.h>

#include "tension/core/comm.h"
#include "tension/core/error.h"

namespace tension {

void configure_device(const torch::Device& device) {
  if (!device.is_cuda()) return;
  at::globalContext().setAllowTF32CuDNN(false);
  at::globalContext().setAllowTF32CuBLAS(false);
}

torch::Device parse_device(const std::string& name) {
  torch::Device d = torch::kCPU;
  try {
    d = torch::Device(name);
  } catch (const c10::Error&) {
    throw Error("unknown device '" + name + "' (use cpu, cuda or cuda:N)");
  }
  if (d.is_cuda() && !torch::cuda::is_available()) {
    throw Error("--device " + name + " asked for, but this LibTorch build or machine has no CUDA device");
  }
  // Under an MPI launcher, a bare "cuda" is the GPU of this rank's place on its machine; "cuda:N" stays as given.
  if (d.is_cuda() && !d.has_index() && comm::size() > 1) {
    d = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(comm::local_rank() % torch::cuda::device_count()));
  }
  configure_device(d);
  return d;
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
