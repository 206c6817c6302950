#pragma once
// The effective receptive field (paper App. B, as the paper's code computes it; docs/paper-vs-code.md): where a
// unit's gradient at the input is large, not merely non-zero. Crops shown to a person use it; exact supports
// (receptive_field.h) stay where exactness matters (the attributor's input crop, the footprint of S).
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "tension/model/receptive_field.h"

namespace tension::model {

struct EffectiveFieldOptions {
  int64_t samples = 30;     // N(0, 1) noise images, mapped to the model's range like [0, 1] pixels, not clipped
  int64_t steps = 10;       // gradient-ascent steps; |gradient| is summed over all of them
  double step_size = 0.1;   // input += step_size * gradient, in [0, 1]-pixel units
  double blur_fraction = 5.0 / 224;  // blur sd as a fraction of the input's longer side (5 px at 224)
  double threshold = 0.05;  // of the min-max normalised map (the paper: 0.05 for figures, 0.2 for the atlas)
  uint64_t seed = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(EffectiveFieldOptions, samples, steps, step_size, blur_fraction, threshold, seed)

struct EffectiveField {
  torch::Tensor map;  // [H, W] float: the blurred |gradient| summed over samples, steps and colours, in [0, 1]
  Box support;        // where the unsummed |gradient| is non-zero
  Box box;            // box_at(the options' threshold)

  // map > threshold within the support (the blur can spread past the pixels the unit depends on: a 3x3 field
  // under a 1.4 px blur), made square within the map.
  Box box_at(double threshold) const;
};

// The effective receptive field of readout(tap) (one value per sample, e.g. a unit at a position) in input pixels;
// the whole image for a tap without positions.
// The map follows the paper's code; the box is also kept inside the gradient's support (docs/paper-vs-code.md).
// Throws tension::Error when the readout does not depend on the input.
EffectiveField effective_receptive_field(Model& model, const Tap& tap, const Readout& readout,
                                         const EffectiveFieldOptions& opt = {});

}  // namespace tension::model
