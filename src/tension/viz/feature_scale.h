#pragma once
// The scale of a feature over a dataset: curve.csv and Fig. 14 give f_v in its standard deviations.
#include <vector>

#include "tension/data/dataset.h"
#include "tension/feature/feature.h"
#include "tension/model/model.h"

namespace tension::viz {

// Standard deviation (sample_sd, core/moments.h) of each feature's value over the first `limit` images of `ds` (0 = all); one forward pass
// per batch for all features. Throws tension::Error when fewer than two images can be read.
std::vector<double> feature_sd(model::Model& m, const std::vector<feature::Feature>& features, const data::Dataset& ds,
                               size_t limit, size_t batch_size = 64);

}  // namespace tension::viz
