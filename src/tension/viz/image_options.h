#pragma once
// Shared by the parameterisations' sources only: option checks and the CPU generator for initial values.
#include <ATen/CPUGeneratorImpl.h>

#include "tension/viz/parameterization.h"

namespace tension::viz {

// Throws tension::Error for a batch < 1, channels other than 1 or 3, a canvas < 2, or seeds of the wrong shape.
void check_image_options(const ImageOptions& opt);

// Initial values are drawn on the CPU from this generator, then moved to the device: the same seed gives
// the same start on every device.
at::Generator cpu_generator(uint64_t seed);

}  // namespace tension::viz
