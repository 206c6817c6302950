#pragma once
// Attribution completeness (paper §2, App. E; Fig. 3, 13): how closely E_l = sum(S_l) tracks f_v when
// attributing through the pixels and through every post-ReLU layer that is a cut (model/graph_cuts.h): a layer
// that only part of the signal crosses (one branch of an inception block) cannot carry all of f_v.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "tension/data/dataset.h"
#include "tension/model/model.h"

namespace tension::analysis {

struct CompletenessOptions {
  int logits = 20;                     // random units of the model's last layer, when no feature is given
  std::vector<std::string> features;   // explicit features (LAYER:UNIT...) instead of random logits
  std::vector<std::string> layers;     // attribution layers; default: "input" and every post-ReLU cut
  bool all_relus = false;              // default layers also take the post-ReLU taps that are not cuts
  uint64_t seed = 0;
  size_t batch_size = 64;
  size_t limit = 0;                    // first N images (0 = all)
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(CompletenessOptions, logits, features, layers, all_relus, seed, batch_size, limit)

struct CompletenessLayer {
  std::string layer;
  double depth = 0;                    // ReLUs preceding the layer / all ReLUs (paper App. E); 0 at pixels
  bool cut = true;                     // every path from the input to the features crosses the layer
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

CompletenessResult completeness(model::Model& m, const data::Dataset& ds, const CompletenessOptions& opt);

}  // namespace tension::analysis
