#pragma once
// What an accentuation or inversion aims at (paper §4): S+ = ReLU(S), S- = ReLU(-S) or |S| of an image's
// attribution at a layer, cropped to the feature's footprint there; or, for plain feature visualisation, the
// feature itself (max) or its negation (min).
#include <torch/torch.h>

#include <string>
#include <vector>

#include "tension/attribution/attributor.h"
#include "tension/feature/feature.h"
#include "tension/model/model.h"
#include "tension/viz/objectives.h"

namespace tension::viz {

enum class Target { SPos, SNeg, Abs, Max, Min };

// "s+", "s-", "abs", "max", "min"; throws tension::Error for anything else.
Target parse_target(const std::string& s);
std::string target_name(Target t);
// s+, s- and abs need an attribution; max and min do not.
bool needs_attribution(Target t);

// S of one image for one feature at one layer, over the feature's footprint there.
struct Attribution {
  model::Tap tap;          // the attribution layer
  model::Box footprint;    // in that layer's positions (empty for layers without positions)
  torch::Tensor s;         // [C, h, w] (or [C]), on the CPU
  double fv = 0;           // the feature's value on the image
};

// S of feature k on image k: x [K, C, H, W] preprocessed, one image per feature of `a`, which must keep S.
// `layer` indexes the attributor's layers; the pixels ("input") cannot be a visualisation target.
std::vector<Attribution> attributions_per_feature(attribution::Attributor& a, const torch::Tensor& x, size_t layer = 0);

// The target tensor: ReLU(S), ReLU(-S) or |S|.
torch::Tensor attribution_target(const torch::Tensor& s, Target t);

// The objective of one batch item: dot*cos^p toward the target at the attribution layer (eq. 5) for s+, s- and
// abs; the feature maximised or minimised for max and min (`attr` unused).
Objective target_objective(const model::Model& m, const feature::Feature& f, Target t, const Attribution* attr,
                           int cos_power, int64_t item);

}  // namespace tension::viz
