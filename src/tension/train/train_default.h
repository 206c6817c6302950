#pragma once
// `tension train-default`: trains the embedded default models (the Fashion-MNIST CNNs, with and without
// BatchNorm) with a fixed seed and writes their weights where the registry finds them (models/).
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "tension/core/manifest.h"
#include "tension/model/registry.h"
#include "tension/train/classifier.h"

namespace tension::train {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(TrainOptions, epochs, batch_size, lr, seed)

struct TrainDefaultOptions {
  std::vector<std::string> models{"fmnist-cnn", "fmnist-cnn-bn"};
  std::string train_data = "fashion-mnist:train", test_data = "fashion-mnist:test";
  std::string models_dir = model::models_dir();
  TrainOptions train;
  double min_accuracy = 0.90;   // a model below it on the test set fails the run
  std::string device = "cpu";   // not recorded
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(TrainDefaultOptions, models, train_data, test_data, models_dir, train, min_accuracy)

// Throws tension::Error for a model that is not a native one, or when a model ends below min_accuracy (its
// weights are still written).
void train_default(const TrainDefaultOptions& opt, RunManifest& run);

}  // namespace tension::train
