#pragma once
// Feature specs as Lucid writes them: "mixed3b:379" is channel 379 of mixed3b at the centre position,
// "mixed3b:379@3,4" at row 3, column 4, and "mixed3b:@dirs.npy#5" the direction in row 5 of a .npy matrix.
// f_v is read pre-ReLU where the model offers it.
#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include "tension/model/model.h"
#include "tension/model/receptive_field.h"

namespace tension::feature {

struct Feature {
  std::string spec;                 // as written
  std::string layer;                // layer named in the spec
  int64_t unit = -1;                // channel index; -1 for a direction
  torch::Tensor direction;          // [C] for a direction
  std::optional<int64_t> row, col;  // position; unset = the centre (H//2, W//2)
  int cos_power = 0;                // > 0: dot(h, v) * cos(h, v)^p readout (paper App. B/C); 0: plain dot
};

// Parses a spec; directions are read from the .npy file (a [K, C] or [C] float matrix). Throws
// tension::Error for malformed specs, missing files or an out-of-range row.
Feature parse_feature(const std::string& spec, int cos_power = 0);

// Where f_v is read: the layer's pre-activation when the model offers one ("X_pre_relu" on the native
// InceptionV1, "X:in" when X is a ReLU), the layer itself otherwise.
model::Tap feature_tap(const model::Model& m, const std::string& layer);

// The channels of a layer where its features are read (one forward of a random input).
int64_t feature_channels(model::Model& m, const std::string& layer, uint64_t seed = 0);

// `count` distinct random channels of `channels` (all of them when there are fewer), ascending: the paper's
// "random units" of a layer.
std::vector<int64_t> random_units(int64_t channels, int64_t count, uint64_t seed);

// The position the feature reads in a [N, C, H, W] activation (the centre unless given); throws when outside.
std::pair<int64_t, int64_t> feature_position(const Feature& f, const torch::Tensor& act);

// That position as a one-position box of act [N, C, H, W]; an empty box for a layer without positions [N, C].
model::Box feature_box(const Feature& f, const torch::Tensor& act);

// The dot*cos^p readout of hidden vectors h [..., C] (paper eq. 5, App. B/C): against a direction v [C] -> [...],
// against directions v [K, C] -> [..., K]; p = 0 is the plain dot. A zero hidden vector reads 0.
torch::Tensor dot_cos(const torch::Tensor& h, const torch::Tensor& v, int p);

// f_v for each sample: act [N, C, H, W] (read at the position) or [N, C]. Differentiable. Throws
// tension::Error when the unit or direction does not fit the layer's channels.
torch::Tensor read_feature(const Feature& f, const torch::Tensor& act);

}  // namespace tension::feature
