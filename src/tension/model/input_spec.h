#pragma once
// What a model expects at its input, without torch: the data stage builds its preprocessing from it.
#include <cstdint>
#include <string>
#include <vector>

namespace tension::model {

struct InputSpec {
  int64_t channels = 3;       // 1 (grey) or 3 (RGB)
  int64_t height = 224;       // size images are resized to
  int64_t width = 224;
  bool fixed_size = false;    // true when another size cannot run (e.g. a Linear layer after the convs)
  double range_lo = 0.0;      // pixels in [0,1] are mapped to [range_lo, range_hi] ...
  double range_hi = 1.0;
  std::vector<double> mean;   // ... then, when given, (x - mean[c]) / std[c] per channel
  std::vector<double> std;
};

}  // namespace tension::model
