#pragma once
// The optimisation of eq. 4: z* = argmax_z sum over objectives of L(tau o P^-1(z)), with Adam, several random
// transformation draws per step, and the forward pass stopping at the deepest tap the objectives read. Along
// the way it integrates |dL/dpixel| for the opacity mask and, when asked, records each item's feature value
// on the untransformed image (the App. F check).
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <vector>

#include "tension/feature/feature.h"
#include "tension/model/model.h"
#include "tension/viz/objectives.h"
#include "tension/viz/parameterization.h"
#include "tension/viz/transforms.h"

namespace tension::viz {

struct OptimizeOptions {
  int64_t steps = 121;     // accentuation / inversion (paper code); plain feature visualisation: 101
  double lr = 0.02;        // Adam; plain feature visualisation: 0.05
  TransformOptions transforms;
  uint64_t seed = 0;       // transformation draws
  // Per batch item, the feature whose value is recorded at every step (empty = none).
  std::vector<feature::Feature> monitor;
  bool progress = true;    // a progress bar over the steps
  // Run the network on the input crop that the objectives' regions see (model/input_crop.h), when every objective
  // has a region, the model takes other sizes and the crop gives the same values on random inputs.
  bool crop_input = true;
};
// Not the monitor (set per batch by its callers) or the progress bar.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(OptimizeOptions, steps, lr, transforms, seed, crop_input)

// Where the forward pass of an optimisation runs: the input crop, and each objective's region in the cropped run.
struct ObjectivePlan {
  model::Box input;                  // empty: the whole input (each objective then finds its own region)
  std::vector<model::Box> regions;   // per objective, in the cropped run's positions
};

// Plans the input crop for `objectives` (no crop when `crop_input` is false or it does not apply).
ObjectivePlan plan_objectives(model::Model& m, const std::vector<Objective>& objectives, bool crop_input = true,
                              uint64_t seed = 0);

struct StepRecord {
  int64_t step;
  torch::Tensor loss;   // [B] per item: minus the mean over draws of its objectives' values, summed
  torch::Tensor fv;     // [B] the monitored features on the step's image (undefined without monitor)
};

struct OptimizeResult {
  torch::Tensor images;     // [B, C, S, S] in (0, 1): the image of the last step, on the CPU
  torch::Tensor gradients;  // [B, C, S, S] sum over steps of |dL/dpixel| (the opacity accumulator), on the CPU
  std::vector<StepRecord> curve;
};

// One evaluation of eq. 4's objective on images [B, C, S, S] under one set of transformation draws: the loss of
// each item [B] (minus the mean over draws of its objectives' values, summed) and the gradient of their sum
// with respect to the images [B, C, S, S]. The forward pass stops at the deepest tap the objectives read, and runs
// on `plan`'s input crop.
struct Evaluation {
  torch::Tensor loss;
  torch::Tensor grad;
};
Evaluation evaluate(model::Model& m, const torch::Tensor& images, Transforms& transforms,
                    const std::vector<Objective>& objectives, const ObjectivePlan& plan = {});

// Runs the optimisation. The images of step k are those rendered after k Adam updates; the last step's gradient
// counts toward the opacity but is not applied (as the paper's code returns the image it took it on).
OptimizeResult optimize(model::Model& m, Parameterization& param, const std::vector<Objective>& objectives,
                        const OptimizeOptions& opt = {});

// The monitored features of images [B, C, S, S] in [0, 1] (resized to the model's input, no transformation):
// [B], item b read with features[b]. No gradient.
torch::Tensor feature_values(model::Model& m, const torch::Tensor& images, const std::vector<feature::Feature>& features);

}  // namespace tension::viz
