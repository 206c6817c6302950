#include "tension/toy/trainer.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "tension/core/error.h"
#include "tension/core/progress.h"
#include "tension/core/splitmix.h"
#include "tension/toy/toy_data.h"

namespace tension::toy {

namespace {

// Well-spread seeds from (seed, stream, index).
uint64_t derive(uint64_t seed, uint64_t stream, uint64_t index) {
  return splitmix64_hash(splitmix64_hash(splitmix64_hash(seed) ^ stream) ^ index);
}

KernelConfig kernel_config(const TrainConfig& c) {
  KernelConfig k;
  k.hidden = c.hidden;
  k.outputs = c.task.features;
  auto imp = c.task.importance();
  std::copy(imp.begin(), imp.end(), k.importance);
  k.adam = c.adam;
  k.train_hidden_bias = c.hidden_bias;
  return k;
}

}  // namespace

uint64_t init_seed(uint64_t seed, int64_t restart) { return derive(seed, 1, static_cast<uint64_t>(restart)); }
uint64_t data_seed(uint64_t seed) { return derive(seed, 2, 0); }
uint64_t heldout_seed(uint64_t seed) { return derive(seed, 3, 0); }

void TrainConfig::validate() const {
  task.validate();
  PaddedLayout::for_inputs(task.inputs());
  if (hidden < 1 || hidden > kHiddenPad) {
    throw Error("the hidden width m must be 1 to " + std::to_string(kHiddenPad) + ", not " + std::to_string(hidden));
  }
  if (restarts < 1 || first_restart < 0) throw Error("need at least one restart");
  if (steps < 1 || batch < 1 || chunk < 1) throw Error("steps, batch and chunk must be positive");
  if (batch > (1 << 24)) throw Error("batch too large: row counts are kept as exact floats (at most 2^24)");
  if (!(adam.lr > 0)) throw Error("the learning rate must be positive");
  if (!(init_scale > 0)) throw Error("the initialisation scale must be positive");
}

ToyModel TrainResult::model(const TrainConfig& c, int64_t index) const {
  return unpack(layout, params[index].data_ptr<float>(), c.task.inputs(), c.hidden, c.task.features);
}

TrainResult train_restarts(const TrainConfig& c) {
  c.validate();
  TrainResult res;
  res.layout = PaddedLayout::for_inputs(c.task.inputs());
  const int64_t R = c.restarts, P = res.layout.size;
  res.params = torch::zeros({R, P});
  auto exp_avg = torch::zeros({R, P}), exp_avg_sq = torch::zeros({R, P});
  for (int64_t r = 0; r < R; ++r) {
    pack(init_model(c.task.inputs(), c.hidden, c.task.features, c.hidden_bias, init_seed(c.seed, c.first_restart + r),
                    c.init_scale),
         res.layout, res.params[r].data_ptr<float>());
  }
  const KernelConfig kc = kernel_config(c);
  float *params = res.params.data_ptr<float>(), *m = exp_avg.data_ptr<float>(), *v = exp_avg_sq.data_ptr<float>();
  std::vector<double> chunk_loss(R);
  ToyData data(c.task, data_seed(c.seed));
  std::vector<SparseBatch> batches;
  Progress bar(c.task.name() + " m=" + std::to_string(c.hidden) + " x" + std::to_string(R), c.steps, "step");
  int64_t last_chunk_steps = 0;
  for (int64_t done = 0; done < c.steps; done += last_chunk_steps) {
    last_chunk_steps = std::min<int64_t>(c.chunk, c.steps - done);
    batches.clear();
    for (int64_t s = 0; s < last_chunk_steps; ++s) batches.push_back(compress(c.task, data.next(c.batch)));
    at::parallel_for(0, R, 1, [&](int64_t begin, int64_t end) {
      alignas(64) float grad[kMaxLayoutSize];
      for (int64_t r = begin; r < end; ++r) {
        chunk_loss[r] = train_restart(res.layout, params + r * P, m + r * P, v + r * P, grad, batches.data(),
                                      static_cast<int>(last_chunk_steps), done, kc);
      }
    });
    bar.advance(last_chunk_steps);
  }
  bar.finish();
  res.train_seconds = bar.elapsed_seconds();
  res.final_loss.resize(R);
  for (int64_t r = 0; r < R; ++r) res.final_loss[r] = chunk_loss[r] / static_cast<double>(last_chunk_steps);
  return res;
}

SparseBatch heldout_set(const ToyTask& task, int64_t rows, uint64_t seed) {
  if (rows < 1 || rows > (1 << 24)) throw Error("the held-out set must have 1 to 2^24 rows");
  return compress(task, ToyData(task, seed).next(rows));
}

std::vector<double> heldout_losses(const TrainConfig& c, const TrainResult& trained, const SparseBatch& set) {
  const KernelConfig kc = kernel_config(c);
  std::vector<double> out(trained.params.size(0));
  const float* params = trained.params.data_ptr<float>();
  at::parallel_for(0, trained.params.size(0), 1, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      out[r] = batch_loss_sum(trained.layout, params + r * trained.layout.size, set, kc) /
               static_cast<double>(set.rows);
    }
  });
  return out;
}

int64_t best_restart(const std::vector<double>& losses) {
  if (losses.empty()) return -1;
  size_t best = 0;
  for (size_t r = 1; r < losses.size(); ++r) {
    if (!std::isnan(losses[r]) && (std::isnan(losses[best]) || losses[r] < losses[best])) best = r;
  }
  return static_cast<int64_t>(best);
}

}  // namespace tension::toy
