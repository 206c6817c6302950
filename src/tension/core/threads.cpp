#include "tension/core/threads.h"

#include <dlfcn.h>
#include <torch/torch.h>

#include "tension/core/parallel.h"

namespace tension {

void set_blas_threads(int n) {
  // libtorch links the generic libblas.so.3; OpenBLAS, when it is the alternative installed, exports this.
  using SetFn = void (*)(int);
  static auto fn = reinterpret_cast<SetFn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (fn) fn(n);
}

int configure_threads(int n) {
  n = thread_count(n);
  torch::set_num_threads(n);
  set_blas_threads(1);
  return n;
}

ScopedBlasThreads::ScopedBlasThreads(int n) { set_blas_threads(n); }
ScopedBlasThreads::~ScopedBlasThreads() { set_blas_threads(1); }

}  // namespace tension
