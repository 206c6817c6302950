#pragma once
// `tension demo` as a library call: every analysis of the paper on the embedded default (the Fashion-MNIST CNNs),
// written as one HTML report with its figures, sub-runs and a summary of the paper's claims as measured.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tension/core/manifest.h"

namespace tension::report {

struct DemoOptions {
  std::string data = "fashion-mnist:test";
  std::string atlas_data = "fashion-mnist:train";  // the paper's atlas draws from training images
  std::vector<std::string> models{"fmnist-cnn", "fmnist-cnn-bn"};  // without and with BatchNorm (Fig. 3)
  uint64_t seed = 0;
  size_t completeness_images = 2000;  // test images of the completeness and selection sections
  std::string device = "cpu";         // where the models run; not recorded
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(DemoOptions, data, atlas_data, models, seed, completeness_images)

// Writes index.html, its figures and the sections' runs into run.dir(). Throws tension::Error when a default
// model has no trained weights (run `tension train-default`).
void run_demo(const DemoOptions& opt, RunManifest& run);

}  // namespace tension::report
