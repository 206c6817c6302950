#pragma once
// Sampling toy inputs (App. G): each feature is on with probability p_on, independently per row; an on abs
// feature is uniform, an on XOR feature sets its pair of inputs to two fair coin flips. Rows are drawn
// as the positions of their non-zero entries (geometric gaps between on features, the same distribution as
// one coin per feature at a fraction of the cost).
#include <torch/torch.h>

#include <cstdint>
#include <random>
#include <vector>

#include "tension/toy/sparse_batch.h"
#include "tension/toy/toy_task.h"

namespace tension::toy {

// A batch of rows as its non-zero entries, sorted by row then input.
struct RawBatch {
  int64_t rows = 0;
  std::vector<int32_t> row, input;
  std::vector<float> value;
};

// A seeded stream of batches: the same task, seed and batch sizes give the same batches.
class ToyData {
 public:
  ToyData(ToyTask task, uint64_t seed);
  RawBatch next(int64_t rows);

 private:
  float uniform();  // [0, 1), 24 random bits
  ToyTask task_;
  std::mt19937_64 rng_;
  double log_off_;  // log(1 - p_on)
};

// The rows of `raw` as [rows, task.inputs()] (the dense batch the paper's code trains on).
torch::Tensor to_dense(const ToyTask& task, const RawBatch& raw);

// The distinct rows of `raw` with their multiplicities and targets (sparse_batch.h): all-zero rows become
// one row, and identical rows (frequent in the XOR task) one row each.
SparseBatch compress(const ToyTask& task, const RawBatch& raw);

}  // namespace tension::toy
