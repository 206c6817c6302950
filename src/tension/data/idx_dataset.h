#pragma once
// A dataset of images stored in an IDX file, with labels from the matching IDX label file when present.
#include <memory>
#include <string>
#include <vector>

#include "tension/data/dataset.h"

namespace tension::data {

// The label file that goes with an images file: the last "images" in the file name becomes "labels" and
// the "idxN" after it "idx1" ("train-images-idx3-ubyte.gz" -> "train-labels-idx1-ubyte.gz",
// "t10k-images.idx3-ubyte" -> "t10k-labels.idx1-ubyte"). Empty when the name has no "images".
std::string idx_labels_path(const std::string& images_path);

// images_path holds ubyte [N, H, W] or [N, H, W, C] (C = 1 or 3). Labels come from idx_labels_path (with or
// without ".gz"); without a label file every label is -1. class_names, when empty, become "0".."max label".
std::unique_ptr<Dataset> open_idx(const std::string& images_path, std::vector<std::string> class_names = {});

}  // namespace tension::data
