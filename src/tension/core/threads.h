#pragma once
// Thread configuration measured in docs/dependencies.md §0: torch intra-op threads = hardware threads,
// OpenBLAS single-threaded while torch runs network work (they oversubscribe otherwise), OpenBLAS
// multi-threaded only for one big GEMM.

namespace tension {

// Sets torch's intra-op threads to n (0 = hardware threads) and OpenBLAS to 1 thread. Returns the count used.
int configure_threads(int n = 0);

// Sets OpenBLAS's thread count when OpenBLAS is the BLAS in use; a no-op for other BLAS libraries.
void set_blas_threads(int n);

// Raises OpenBLAS to `n` threads for the lifetime of the guard (one big GEMM), then back to 1.
class ScopedBlasThreads {
 public:
  explicit ScopedBlasThreads(int n);
  ~ScopedBlasThreads();
  ScopedBlasThreads(const ScopedBlasThreads&) = delete;
  ScopedBlasThreads& operator=(const ScopedBlasThreads&) = delete;
};

}  // namespace tension
