#include "tension/data/loader.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

#include "tension/core/error.h"
#include "tension/core/parallel.h"
#include "tension/data/preprocess.h"
#include "tension/model/input_range.h"

namespace tension::data {

// One background thread runs parallel_items over the batches, which hands them out in order to the decode
// threads; the consumer takes them in order. A thread decodes batch b only once b < next_to_deliver +
// queue_batches, which bounds the batches held in memory. Each batch depends only on its items, so the output
// does not depend on the thread count or timing.
struct BatchLoader::Impl {
  struct Slot {
    Batch batch;
    std::exception_ptr error;  // a bug or resource failure (not an unreadable item): rethrown by next()
  };

  const Dataset& ds;
  model::InputSpec spec;
  size_t batch_size;
  size_t queue_batches;
  std::vector<size_t> items;
  size_t num_batches;

  std::mutex mu;
  std::condition_variable can_decode, can_deliver;
  size_t next_to_deliver = 0;
  std::map<size_t, Slot> ready;
  bool stopping = false;
  std::thread producer;  // decoding runs beside the consumer, not inside next()

  Impl(const Dataset& d, model::InputSpec s, LoaderOptions opt)
      : ds(d), spec(std::move(s)), batch_size(opt.batch_size), queue_batches(std::max<size_t>(1, opt.queue_batches)) {
    if (batch_size == 0) throw Error("batch size must be positive");
    model::check_input_spec(spec);
    if (opt.indices.empty()) {
      for (size_t i = 0; i < ds.size(); ++i) items.push_back(i);
    } else {
      for (size_t i : opt.indices)
        if (i >= ds.size()) throw Error("item index " + std::to_string(i) + " is out of range for " + ds.describe());
      items = std::move(opt.indices);
    }
    num_batches = (items.size() + batch_size - 1) / batch_size;
    producer = std::thread([this, threads = std::max(1, opt.threads)] {
      parallel_items(static_cast<int64_t>(num_batches), threads, [this](int64_t b) { decode(static_cast<size_t>(b)); });
    });
  }

  ~Impl() {
    {
      std::lock_guard<std::mutex> lock(mu);
      stopping = true;
    }
    can_decode.notify_all();
    producer.join();
  }

  // An item's image, index and label are read first and kept together, or not at all: a label that cannot be
  // read must not leave its image behind with the next item's label.
  Batch make_batch(size_t b) const {
    Batch out;
    std::vector<torch::Tensor> rows;
    for (size_t k = b * batch_size; k < std::min(items.size(), (b + 1) * batch_size); ++k) {
      size_t i = items[k];
      try {
        torch::Tensor x = preprocess(ds.load(i), spec);
        const int64_t label = ds.label(i);
        rows.push_back(std::move(x));
        out.indices.push_back(i);
        out.labels.push_back(label);
      } catch (const Error& e) {
        out.failures.push_back({i, ds.id(i), e.what()});
      }
    }
    out.x = rows.empty() ? torch::empty({0, spec.channels, spec.height, spec.width}) : torch::stack(rows);
    return out;
  }

  // One item of the parallel-for: waits for room, decodes batch b and hands it to the consumer. Once stopping,
  // the batches not yet decoded are passed over.
  void decode(size_t b) {
    {
      std::unique_lock<std::mutex> lock(mu);
      can_decode.wait(lock, [&] { return stopping || b < next_to_deliver + queue_batches; });
      if (stopping) return;
    }
    Slot slot;
    try {
      slot.batch = make_batch(b);
    } catch (...) {
      slot.error = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      ready.emplace(b, std::move(slot));
    }
    can_deliver.notify_all();
  }

  bool next(Batch& out) {
    std::unique_lock<std::mutex> lock(mu);
    if (next_to_deliver >= num_batches) return false;
    can_deliver.wait(lock, [&] { return ready.count(next_to_deliver) > 0; });
    Slot slot = std::move(ready.extract(next_to_deliver++).mapped());
    lock.unlock();
    can_decode.notify_all();
    if (slot.error) std::rethrow_exception(slot.error);
    for (const Failure& f : slot.batch.failures) spdlog::warn("skipped item {}: {}", f.index, f.reason);
    out = std::move(slot.batch);
    return true;
  }
};

BatchLoader::BatchLoader(const Dataset& ds, model::InputSpec spec, LoaderOptions opt)
    : impl_(std::make_unique<Impl>(ds, std::move(spec), std::move(opt))) {}

BatchLoader::~BatchLoader() = default;

bool BatchLoader::next(Batch& out) { return impl_->next(out); }

size_t BatchLoader::num_items() const { return impl_->items.size(); }

}  // namespace tension::data
