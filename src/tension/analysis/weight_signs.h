#pragma once
// Weight-sign statistics (paper App. D, Fig. 12): per layer, the fraction of negative weights, and the
// distribution of weights divided by their layer's standard deviation (not centred: the sign of every weight is
// kept), aggregated over the model.
#include <string>
#include <vector>

#include "tension/model/model.h"

namespace tension::analysis {

struct WeightLayerStats {
  std::string name;             // parameter name, e.g. "conv2.weight"
  int64_t count = 0;
  double fraction_negative = 0;  // of the raw weights
  double mean = 0, std = 0;
};

struct WeightSigns {
  std::string model;
  std::vector<WeightLayerStats> layers;  // kernels of convolutions and linear maps (weights with >= 2 dims)
  double fraction_negative = 0;          // over every kernel weight of the model
  std::vector<double> bin_centres;       // histogram of w / sd(layer), all layers pooled
  std::vector<double> density;           // normalised so that it integrates to the fraction inside the range
};

// Throws tension::Error when the model has no kernel weights.
WeightSigns weight_signs(const model::Model& m, int bins = 80, double range = 4.0);

}  // namespace tension::analysis
