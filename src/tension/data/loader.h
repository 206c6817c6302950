#pragma once
// Batches a dataset with parallel decoding through a bounded queue. Unreadable items are logged, reported in
// Batch::failures and skipped; batches come out in index order whatever the thread count.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "tension/data/dataset.h"
#include "tension/model/input_spec.h"

namespace tension::data {

struct LoaderOptions {
  size_t batch_size = 32;
  int threads = 2;                 // decode threads (at least 1 is used)
  size_t queue_batches = 4;        // bound on decoded batches waiting to be consumed (at least 1)
  std::vector<size_t> indices;     // items to load, in this order; empty = all items 0..size-1
};

struct Failure {
  size_t index;
  std::string id;
  std::string reason;
};

struct Batch {
  torch::Tensor x;                 // [B, C, H, W] preprocessed (B may be 0 when every item failed)
  std::vector<size_t> indices;     // dataset index of each row of x
  std::vector<int64_t> labels;
  std::vector<Failure> failures;   // items of this batch's range that could not be read
};

class BatchLoader {
 public:
  BatchLoader(const Dataset& ds, model::InputSpec spec, LoaderOptions opt);
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  // Fills `out` with the next batch; false when the dataset is exhausted.
  bool next(Batch& out);
  size_t num_items() const;        // items this loader will visit

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tension::data
