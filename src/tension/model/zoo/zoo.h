#pragma once
// The native model zoo: models written with torch::nn, with taps at every layer.
#include <memory>
#include <string>
#include <vector>

#include "tension/model/model.h"

namespace tension::model {

struct ZooOptions {
  std::string weights;  // a state dict saved by Python torch.save (dict or OrderedDict) or by save_weights();
                        // empty = random
  uint64_t seed = 0;    // random init seed when no weights are given
};

// Names accepted by make_zoo_model: "fmnist-cnn", "fmnist-cnn-bn", "inception-v1", "vgg11", "vgg11-bn",
// "toy-mlp", "toy-mlp-nobias".
std::vector<std::string> zoo_model_names();

// nullptr when `name` is not a zoo model. Throws tension::Error for unreadable or mismatched weights.
std::unique_ptr<Model> make_zoo_model(const std::string& name, const ZooOptions& opt);

}  // namespace tension::model

namespace tension::model {

// A zoo model also exposes its torch::nn::Module, for training (train-default) and weight statistics.
class ZooModel : public Model {
 public:
  // Parameters are frozen (requires_grad false) until a trainer unfreezes them.
  virtual torch::nn::Module& module() = 0;
  // Writes the state dict (parameters and buffers, Python key names) as a file that Python's torch.load
  // and make_zoo_model(..., {weights = path}) both read.
  virtual void save_weights(const std::string& path) = 0;
};

}  // namespace tension::model
