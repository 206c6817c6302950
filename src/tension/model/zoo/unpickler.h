#pragma once
// Reads what Python's torch.save writes (the zip format, the default since PyTorch 1.6), and what
// torch::pickle_save writes, when it is a dict or an OrderedDict of tensors: a state dict.
// torch::pickle_load alone cannot: it turns an OrderedDict (every Module.state_dict()) into None.
#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

namespace tension::model {

using TensorDict = std::vector<std::pair<std::string, torch::Tensor>>;

// The entries in file order, on the CPU. Throws tension::Error when the file is missing, is not such an
// archive, is corrupt, or holds anything but a dict of tensors.
TensorDict read_tensor_dict(const std::string& path);

}  // namespace tension::model
