#pragma once
// Running a network on a crop of its input when only some positions of some layers are wanted: the crop covers
// their receptive field, widened by one stride and aligned to the coarsest stride of the layers involved, so
// that every layer's grid lines up with the full input's and the wanted values are unchanged. Callers check
// that on random inputs before relying on it (padding or a non-local layer can break it).
#include <torch/torch.h>

#include <functional>
#include <vector>

#include "tension/model/model.h"
#include "tension/model/receptive_field.h"

namespace tension::model {

// Positions of taps[tap] whose values are wanted, given the tap's activation on a full-size input [N, C, H, W].
struct CropNeed {
  size_t tap;
  std::function<Box(const torch::Tensor& act)> positions;
};

struct InputCrop {
  Box box;                     // in input pixels; empty (height 0) when no crop applies
  std::vector<int64_t> stride; // per tap: input pixels per position
  std::vector<Box> needed;     // per need: its positions on the full input

  // b, positions of taps[tap] on the full input, in the cropped run's positions.
  Box shift(size_t tap, const Box& b) const;
};

struct InputCropOptions {
  ReceptiveFieldOptions field;   // random inputs that find the receptive field
  double max_fraction = 0.8;     // no crop when it keeps more of the input than this
};

// Plans the crop for `needs` over `taps` (every tap whose positions the caller translates, needed or not). No crop
// (empty box) when the model takes only its own input size, a tap has no positions or is not on a regular grid
// of the input, the strides do not nest, or the wanted values depend on no pixel or on too much of the input.
InputCrop plan_input_crop(Model& model, const std::vector<Tap>& taps, const std::vector<CropNeed>& needs,
                          const InputCropOptions& opt = {});

// b widened by `margin` on every side, its edges moved out to multiples of `stride`, clipped to [0, h) x [0, w).
Box aligned_box(const Box& b, int64_t margin, int64_t stride, int64_t h, int64_t w);

// b moved by (-dr, -dc); an empty box stays empty.
Box shifted_box(const Box& b, int64_t dr, int64_t dc);

// The box's positions of t [..., H, W]; all of t when the box is empty.
torch::Tensor crop_to(const torch::Tensor& t, const Box& b);

}  // namespace tension::model
