#pragma once
// The random transformations tau ~ T of eq. 4 (docs/paper-code.md §2.8.2): per draw, one square box
// crop shared by the batch, Gaussian plus uniform noise shared by the batch, an antialiased resize to the
// model's input, and the model's input range. Several draws per step, concatenated draw-major on the batch axis.
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "tension/model/input_spec.h"
#include "tension/model/receptive_field.h"

namespace tension::viz {

struct TransformOptions {
  int64_t count = 16;          // draws per step
  double box_min = 0.9;        // crop side, as a fraction of the canvas side: U(box_min, box_max)
  double box_max = 0.99;
  double box_loc_std = 0.05;   // crop centre ~ N(0.5, sd^2) per axis, clamped inside the canvas
  double noise_std = 0.02;     // N(0, sd^2) in [0, 1] pixel units ...
  double noise_uniform = 0.01; // ... plus U(-u, u)
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(TransformOptions, count, box_min, box_max, box_loc_std, noise_std, noise_uniform)

class Transforms {
 public:
  // Draws come from `seed`: boxes on the CPU, noise on `device`.
  Transforms(TransformOptions opt, model::InputSpec input, uint64_t seed, torch::Device device);

  // images [B, C, S, S] in [0, 1] -> [count * B, C, H, W] in the model's input range; row t * B + b is draw t of
  // image b. Differentiable in images.
  torch::Tensor operator()(const torch::Tensor& images);

  // One crop box on a canvas of side `size`: a square of side in [box_min, box_max] * size inside the canvas.
  model::Box draw_box(int64_t size);

  const TransformOptions& options() const { return opt_; }

 private:
  TransformOptions opt_;
  model::InputSpec input_;
  at::Generator cpu_, device_gen_;
  torch::Device device_;
};

// Antialiased bilinear resize of [B, C, H, W] to the model's input size (align_corners, as the paper's code).
torch::Tensor resize_to_input(const torch::Tensor& images, const model::InputSpec& input);

}  // namespace tension::viz
