#pragma once
// Moves weights between a torch::nn::Module and a state-dict file, under the Python key names
// ("conv1.weight", "features.0.bias", "bn1.running_mean", ...).
#include <torch/torch.h>

#include <string>

#include "tension/model/zoo/unpickler.h"

namespace tension::model {

// The module's parameters and buffers under their Python keys, in Python's state_dict() order (each module's
// parameters, then its buffers, modules in registration order). The tensors are the module's own.
TensorDict state_dict(const torch::nn::Module& module);

// Writes the entries with torch::pickle_save: Python's torch.load reads the file as a dict of tensors.
void write_tensor_dict(const TensorDict& entries, const std::string& path);

// write_tensor_dict(state_dict(module), path); load_state_dict reads it back.
void save_state_dict(const torch::nn::Module& module, const std::string& path);

// Copies the state dict in `path` (written by save_state_dict or by Python's torch.save of a dict or an
// OrderedDict) into the module. Throws tension::Error naming `model_name` and the keys when a key is missing
// or unexpected or a shape differs; nothing is copied then.
void load_state_dict(torch::nn::Module& module, const std::string& path, const std::string& model_name);

}  // namespace tension::model
