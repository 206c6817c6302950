#pragma once
// The toy models' hot loop: forward, hand-written backward and Adam of h = ReLU(W1 x + b1),
// f' = ReLU(W2 h + b2) under the importance-weighted squared error (App. G, eq. 7-9), for one restart's
// parameters over sparse batches. It is plain C++ (no torch) so that it compiles to straight vector code;
// the trainer (toy/trainer.h) runs it over all restarts in parallel.
//
// Parameters live in a padded layout: hidden units padded to kHiddenPad and outputs to kOutputPad, with
// zero weights. Padded units stay exactly zero (their activations are 0, so every gradient into them is
// exactly 0, and Adam moves nothing whose gradient has always been 0), so one compiled kernel serves every
// width up to kHiddenPad.
#include <cstdint>

#include "tension/toy/sparse_batch.h"

namespace tension::toy {

constexpr int kHiddenPad = 16;
constexpr int kMaxLayoutSize = 416;  // PaddedLayout::size for 16 inputs, the largest

// Offsets (in floats) of one restart's parameters. W1 is stored transposed (one kHiddenPad row per input)
// and W2 as is (one kHiddenPad row per output), so both passes are whole-row vector operations.
struct PaddedLayout {
  int inputs_pad = 0;  // 8 or 16
  int w1 = 0, b1 = 0, w2 = 0, b2 = 0;
  int size = 0;        // a multiple of 16 floats, so that rows of a [R, size] tensor stay 64-byte aligned

  // Throws tension::Error when the inputs exceed 16.
  static PaddedLayout for_inputs(int inputs);
};

// torch.optim.Adam's update (no weight decay, no amsgrad), in the same order of operations.
struct AdamConfig {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
};

struct KernelConfig {
  int hidden = kHiddenPad;            // the real hidden units m (the rest is padding)
  int outputs = kOutputPad;           // the real outputs
  float importance[kOutputPad] = {};  // I_i of eq. 9; 0 on padded outputs
  AdamConfig adam;
  bool train_hidden_bias = true;      // false: b1 is absent (kept at 0), as in the paper code's abs model
};

// Runs Adam steps first_step+1 ... first_step+steps of one restart on batches[0..steps), updating params,
// exp_avg and exp_avg_sq (layout.size floats each) in place. `grad` is layout.size floats
// of scratch. Returns the sum over the steps of the batch loss (each the mean over the batch of eq. 9).
double train_restart(const PaddedLayout& layout, float* params, float* exp_avg, float* exp_avg_sq, float* grad,
                     const SparseBatch* batches, int steps, int64_t first_step, const KernelConfig& config);

// The loss of eq. 9 summed over the batch's rows (not divided by its size), for one restart.
double batch_loss_sum(const PaddedLayout& layout, const float* params, const SparseBatch& batch,
                      const KernelConfig& config);

}  // namespace tension::toy
