#pragma once
// Shared by the parameterisations' sources only: option checks and the draw of initial values.
#include <vector>

#include "tension/viz/parameterization.h"

namespace tension::viz {

// Throws tension::Error for a batch < 1, channels other than 1 or 3, a canvas < 2, seed images of the wrong
// shape, or item seeds that are not one per image.
void check_image_options(const ImageOptions& opt);

enum class Draw { Normal, Uniform };

// Initial values [batch, ...item_shape], N(0, 1) or U(0, 1): from the options' seed for the whole batch, or per
// image from its item seed. Drawn on the CPU (then moved to the device by the caller): the same seed gives the
// same start on every device.
torch::Tensor initial_values(const ImageOptions& opt, std::vector<int64_t> item_shape, Draw draw);

}  // namespace tension::viz
