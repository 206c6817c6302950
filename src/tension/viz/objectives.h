#pragma once
// What an image is optimised for (eq. 4's L): each objective reads one tap for one batch item and gives a value
// per transformation draw to maximise. The render loop sums -mean(value) over objectives, so that many targets,
// one per batch item, optimise in one batch.
#include <torch/torch.h>

#include <functional>
#include <string>

#include "tension/feature/feature.h"
#include "tension/model/model.h"
#include "tension/model/receptive_field.h"

namespace tension::viz {

struct Objective {
  std::string name;
  model::Tap tap;
  int64_t item = 0;   // the batch item (canvas) it drives
  // Activations of that item at `tap` for every draw [T, ...], cut to `region` -> the values to maximise [T].
  std::function<torch::Tensor(const torch::Tensor&)> value;
  // The positions of `tap` that `value` reads, given the tap's activation on a full-size input; unset, or an
  // empty box: all of it. It lets the forward pass run on the input crop those positions see.
  std::function<model::Box(const torch::Tensor&)> region;
};

// The part of `act` (a tap's activation on a full-size input) that the objective reads.
torch::Tensor objective_input(const Objective& o, const torch::Tensor& act);

// A feature (neuron or direction at its position, read as feature::read_feature reads it, pre-ReLU where the
// model offers it), maximised or minimised. Its region is the feature's position.
Objective feature_objective(const model::Model& m, const feature::Feature& f, int64_t item, bool maximise = true);

// Channel `unit` of `tap`, averaged over positions.
Objective channel_objective(const model::Tap& tap, int64_t unit, int64_t item, bool maximise = true);

// The dot product with `direction` [C] at every position of `tap`, averaged over positions.
Objective direction_objective(const model::Tap& tap, const torch::Tensor& direction, int64_t item,
                              bool maximise = true);

// Eq. 5: L(x; S) = (h . S)^(p+1) / (|h| |S|)^p = dot * cos^p, with h the activation of `tap` cropped to `box`
// (the target's footprint, its region; empty = the whole layer) and flattened, S = target [C, h, w] (or [C])
// flattened.
// Cosines are per draw. (The paper's code mixes norms across draws, docs/paper-code.md §2.8.3; this
// computes the paper's equation.)
Objective dot_cos_objective(const model::Tap& tap, const torch::Tensor& target, const model::Box& box, int cos_power,
                            int64_t item);

}  // namespace tension::viz
