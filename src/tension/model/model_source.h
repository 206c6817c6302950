#pragma once
// A model as a run names it: the spec and the options that rebuild it. Runs record it (run.json, the run store's
// config) so that later commands (select, atlas, ...) load the very model the run was made with.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tension::model {

class Model;

struct ModelSource {
  std::string spec;                   // a native model's name (fmnist-cnn, inception-v1, ...) or a TorchScript file
  std::string weights;                // native models: a state-dict file; "random" for a seeded random init
  uint64_t seed = 0;                  // random init, and the seed a command's other draws start from
  std::optional<int64_t> input_size;  // TorchScript models: input side (default 224)
  std::string input_range;            // TorchScript models: "LO,HI" that pixels in [0, 1] map to
  std::vector<double> mean, std;      // TorchScript models: per-channel normalisation after the range
  std::optional<int64_t> channels;    // TorchScript models: 1 or 3
  std::string device = "cpu";         // where it runs; not recorded, since it does not change what it computes
};

// Throws tension::Error for a malformed input range or channel count, an unknown model or unreadable weights.
std::unique_ptr<Model> load_model(const ModelSource& source);

// As a run records it, paths made absolute (a later command may run elsewhere); from_json throws tension::Error
// when the record lacks the spec.
void to_json(nlohmann::json& j, const ModelSource& source);
void from_json(const nlohmann::json& j, ModelSource& source);

}  // namespace tension::model
