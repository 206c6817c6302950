#pragma once
// `tension trials build`: the trials of the human MEI -> MII experiment (paper App B) from a model and a dataset,
// written as a bundle (bundle.h) that the experiment server serves.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "tension/core/manifest.h"
#include "tension/model/effective_field.h"
#include "tension/model/model_source.h"

namespace tension::trials {

struct TrialsBuildOptions {
  model::ModelSource model;         // its seed draws the features, the distractors and the choices' order
  std::string data;                 // a dataset spec
  std::vector<std::string> layers;  // in depth order (the paper: conv2d0, mixed4a, mixed5a)
  int64_t n = 15;                   // features (trials) per layer (App B)
  int64_t kmeans_k = 1000;          // k-means clusters per layer; the features are n random centroids (App B)
  int64_t kmeans_iterations = 50;
  int cos_power = 2;                // the activation is dot*cos^p of the pre-ReLU hidden vector (App B: p = 2)
  size_t limit = 0;                 // the first N images only (0 = all)
  size_t batch_size = 64;
  int64_t crop_side = 128;          // pixels of each crop's picture
  model::EffectiveFieldOptions field;  // the crops are cut to the layer's effective receptive field
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(TrialsBuildOptions, model, data, layers, n, kmeans_k, kmeans_iterations, cos_power,
                                   limit, batch_size, crop_side, field)

// Builds the bundle into run.dir(): per layer kmeans/<layer>/ (a `tension kmeans` run), then two passes over the
// dataset (the activations' mean and sd, each image's extreme crops and every crop's L1 norm; then the crops in
// the distractors' window), the trials (trial_select.h), the crops' pictures, trials.json, one Fig 9 picture per
// layer (fig9_<layer>.png) and run.json. The options are checked before any work; failures are tension::Error.
void trials_build(const TrialsBuildOptions& opt, RunManifest& run);

}  // namespace tension::trials
