#pragma once
// What `tension spectrum` writes: a dataset's mean magnitude spectrum (the MACO magnitude for inversions on the
// user's own data) as .npy, and its radial average per channel as a log-log figure.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

#include "tension/core/manifest.h"

namespace tension::viz {

struct SpectrumRunOptions {
  std::string data;
  int64_t size = 512;       // images centre-cropped and resized to size x size
  int64_t channels = 3;     // 1 or 3, as the model takes them
  size_t limit = 0;         // the first N images (0 = all)
  int decode_threads = 2;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SpectrumRunOptions, data, size, channels, limit, decode_threads)

// Writes spectrum.npy and spectrum.png (.svg, .gp) into run.dir(); the slopes into run["results"].
void spectrum_run(const SpectrumRunOptions& opt, RunManifest& run);

}  // namespace tension::viz
