#pragma once
// A folder of image files, listed like torchvision's ImageFolder: the label of an image is the index of
// its top-level sub-folder among the sorted sub-folder names.
#include <memory>
#include <string>

#include "tension/data/dataset.h"

namespace tension::data {

// Lists dir recursively: files ending in .jpg .jpeg .png .bmp .tif .tiff .webp (any case), sorted by their
// path relative to dir (byte order). Files directly in dir get label -1. Hidden files and folders (name
// starting with '.') are skipped, and symbolic links to folders are not followed (they could loop).
// Throws tension::Error when dir is not a folder or holds no image.
std::unique_ptr<Dataset> open_image_folder(const std::string& dir);

}  // namespace tension::data
