#pragma once
// `tension visualize` as a library call (paper §4, Fig. 5, Fig. 14): accentuations (from an image) and inversions
// (from noise) of an image's attribution to a feature, and plain feature visualisations, optimised in one batch;
// the Fig. 5 row, curve.csv, the images and their opacity.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "tension/core/json.h"
#include "tension/core/manifest.h"
#include "tension/model/model_source.h"

namespace tension::analysis {

struct VisualizeOptions {
  model::ModelSource model;
  std::string feature;                                   // LAYER:UNIT[@ROW,COL] or LAYER:@FILE.npy#ROW
  std::string layer;                                     // the attribution layer of s+, s-, abs
  std::vector<std::string> targets{"s+", "s-"};          // s+, s-, abs (attribution) or max, min (the feature)
  std::vector<std::string> from{"noise"};                // noise (inversion) or an image (accentuation)
  std::string image;                                     // whose attribution: a file or DATA#K (default: the --from image)
  std::string data;                                      // sd(f_v) for curve.csv, and the MACO spectrum
  size_t data_images = 1000;                             // of data (0: all)
  std::string spectrum;                                  // a MACO magnitude spectrum (.npy); default: from data
  std::string param = "maco";                            // maco, fourier or pixel
  int64_t canvas = 0;                                    // 0: 512 for a 224 input, in proportion
  int cos_power = 1;                                     // eq. 5's p
  std::optional<int64_t> steps, transforms;              // default: the recipe of the target (121/16, 101/8)
  std::optional<double> lr;                              // default: 0.02 for s+/s-/abs, 0.05 for max/min
  double rf_threshold = 0.05;                            // the seed column's effective-field crop (the paper)
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(VisualizeOptions, model, feature, layer, targets, from, image, data, data_images,
                                   spectrum, param, canvas, cos_power, steps, transforms, lr, rf_threshold)

// Writes into run.dir(): per panel its RGBA, image and opacity PNGs, images.npy, opacity.npy, curve.csv,
// curve.png and figure.png (the Fig. 5 row); the attribution's totals and the panels' first and last f_v into
// run["results"]. Throws tension::Error for a target that needs an attribution without --layer or --image.
void visualize_run(const VisualizeOptions& opt, RunManifest& run);

}  // namespace tension::analysis
