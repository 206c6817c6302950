#pragma once
// Attribution completeness (paper §2, App. E; Fig. 3, 13): how closely E_l = sum(S_l) tracks f_v when
// attributing through every ReLU layer and through the pixels.
#include <string>
#include <vector>

#include "tension/data/dataset.h"
#include "tension/model/model.h"

namespace tension::analysis {

struct CompletenessOptions {
  int logits = 20;                     // random units of the model's last layer, when no feature is given
  std::vector<std::string> features;   // explicit features (LAYER:UNIT...) instead of random logits
  std::vector<std::string> layers;     // attribution layers; default: every ReLU layer, plus "input"
  uint64_t seed = 0;
  size_t batch_size = 64;
  size_t limit = 0;                    // first N images (0 = all)
};

struct CompletenessLayer {
  std::string layer;
  double depth = 0;                    // ReLUs preceding the layer / all ReLUs (paper App. E); 0 at pixels
  double pearson = 0, spearman = 0;    // mean over features of corr(f_v, E_l) across images
  double mean_abs_diff = 0;            // mean over features and images of |f_v - E_l|
  std::vector<double> pearson_per_feature;
};

struct CompletenessResult {
  std::string model;
  std::vector<std::string> features;
  std::vector<CompletenessLayer> layers;   // pixels first, then by depth
  size_t images = 0, unreadable = 0;
};

// The model's ReLU layers in execution order (kind contains "ReLU").
std::vector<std::string> relu_layers(const model::Model& m);

CompletenessResult completeness(model::Model& m, const data::Dataset& ds, const CompletenessOptions& opt);

}  // namespace tension::analysis
