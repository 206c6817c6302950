#pragma once
// What a person is shown of a feature's input: its effective receptive field (model/effective_field.h) and
// images cropped to it. Selection overlays, Fig. 5 seeds and atlas icons all crop here.
#include <torch/torch.h>

#include "tension/feature/feature.h"
#include "tension/model/effective_field.h"

namespace tension::analysis {

// The square effective receptive field of f_v at the model's input size; the whole image for a feature read
// at a layer without positions.
model::Box feature_field(model::Model& m, const feature::Feature& f, const model::EffectiveFieldOptions& opt = {});

// chw [C, H, W] cropped to box (in chw's pixels) and resized bilinearly to side x side, in [0, 1].
torch::Tensor crop_resized(const torch::Tensor& chw, const model::Box& box, int64_t side);

// image [C, S, S] (e.g. a seed on the canvas) cropped to `field`, a box at the model's input size `in`, scaled
// to the image's grid, and drawn back at S x S.
torch::Tensor field_crop(const torch::Tensor& image, const model::Box& field, const model::InputSpec& in);

}  // namespace tension::analysis
