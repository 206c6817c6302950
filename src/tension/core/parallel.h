#pragma once
// One parallel-for over independent items on plain threads, for CPU work outside torch's own pool (UMAP's
// stages, the data loader's decoding).
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace tension {

// `requested` threads, or the hardware threads when requested <= 0.
inline int thread_count(int requested) {
  return requested > 0 ? requested : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// work(item) for every item in [0, items), items handed out in turn to up to `threads` threads (the caller's
// among them). Items must be independent, so which thread ran an item never changes a result. The first
// exception stops the hand-out and is rethrown here.
template <class Work>
void parallel_items(int64_t items, int threads, Work&& work) {
  const int64_t used = std::min<int64_t>(threads, items);
  if (used <= 1) {
    for (int64_t i = 0; i < items; ++i) work(i);
    return;
  }
  std::atomic<int64_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto run = [&] {
    try {
      for (int64_t i; (i = next++) < items;) work(i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      next = items;
    }
  };
  std::vector<std::thread> pool;
  for (int64_t t = 1; t < used; ++t) pool.emplace_back(run);
  run();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace tension
