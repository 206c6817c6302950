#pragma once
// Training many restarts of one toy model at once (App. G: 1,000 random restarts per width, the best kept by
// its loss on one fixed held-out set). The restarts' parameters are one [R, P] tensor in the padded layout
// of fused_mlp.h; every step, all restarts train on the same batch (one data stream per task and seed,
// shared by the restarts: it is generated once, not R times), each from its own initialisation, in one
// parallel pass of the fused kernel. Restart r depends only on the seed and r, so a batched run equals the
// single runs of its restarts.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tension/toy/fused_mlp.h"
#include "tension/toy/sparse_batch.h"
#include "tension/toy/toy_model.h"
#include "tension/toy/toy_task.h"

namespace tension::toy {

// The seeds of a run, from its --seed: restart r initialises from init_seed(seed, r); the training batches
// and the held-out set come from their own streams.
uint64_t init_seed(uint64_t seed, int64_t restart);
uint64_t data_seed(uint64_t seed);
uint64_t heldout_seed(uint64_t seed);

struct TrainConfig {
  ToyTask task;
  int hidden = 12;               // m
  bool hidden_bias = true;       // b1 of eq. 7 (the paper code's abs model has none)
  int64_t first_restart = 0;     // trains restarts first_restart .. first_restart + restarts - 1
  int64_t restarts = 1000;
  int64_t steps = 20000;
  int64_t batch = 600;
  double init_scale = 1;         // multiplies nn.Linear's initialisation bounds
  AdamConfig adam;
  uint64_t seed = 0;
  int chunk = 200;               // steps drawn at once, then run by every restart

  void validate() const;         // throws tension::Error
};

struct TrainResult {
  PaddedLayout layout;
  torch::Tensor params;               // [restarts, layout.size]
  std::vector<double> final_loss;     // per restart: mean training loss over the last chunk of steps
  double train_seconds = 0;

  ToyModel model(const TrainConfig& config, int64_t index) const;  // restart first_restart + index
};

// Trains every restart of `config`, showing progress.
TrainResult train_restarts(const TrainConfig& config);

// The held-out set: `rows` rows from the held-out stream, compressed into one batch.
SparseBatch heldout_set(const ToyTask& task, int64_t rows, uint64_t seed);

// Per restart, the mean over the set's rows of the loss of eq. 9.
std::vector<double> heldout_losses(const TrainConfig& config, const TrainResult& trained, const SparseBatch& set);

// The index of the lowest loss (NaN counts as worst; ties go to the first).
int64_t best_restart(const std::vector<double>& losses);

}  // namespace tension::toy
