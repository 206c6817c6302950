#pragma once
// Loads any model by name: a native zoo model ("fmnist-cnn", "inception-v1", ...) or a TorchScript file.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "tension/model/model.h"

namespace tension::model {

struct LoadOptions {
  std::string weights;             // zoo models: state-dict file (torch.save of a dict); empty = default
  uint64_t seed = 0;               // zoo models without weights: random init from this seed
  torch::Device device = torch::kCPU;
  // TorchScript models carry no preprocessing; these set it (native models carry their own unless given).
  std::optional<int64_t> input_size;
  std::optional<std::pair<double, double>> input_range;
  std::vector<double> mean, std;
  std::optional<int64_t> channels;
};

std::unique_ptr<Model> load_model(const std::string& spec, const LoadOptions& opt = {});

// The committed weights directory (models/), found beside the executable or the source tree.
std::string models_dir();

}  // namespace tension::model
