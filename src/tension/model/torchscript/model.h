#pragma once
// TorchScript frontend: any model saved with torch.jit.trace or torch.jit.script, with taps at the output or
// input of any submodule, addressed by its named_modules() path (docs/torchscript-taps.md).
#include <memory>
#include <string>

#include "tension/model/model.h"

namespace tension::model {

// Throws tension::Error when the file is missing or not a TorchScript archive.
std::unique_ptr<Model> load_torchscript(const std::string& path, const InputSpec& input);

}  // namespace tension::model
