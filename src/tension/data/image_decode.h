#pragma once
// Decodes an image file into float [C, H, W] in [0, 1], pixel for pixel as PIL + torchvision's ToTensor:
// EXIF orientation ignored, alpha dropped, grey kept as 1 channel, 16-bit samples scaled by 1/65535.
#include <torch/torch.h>

#include <string>

namespace tension::data {

// Throws tension::Error("cannot decode image PATH: REASON") for a missing, unreadable, corrupt or
// truncated file.
torch::Tensor decode_image(const std::string& path);

}  // namespace tension::data
