#pragma once
// The arithmetic of the uniqueness experiment (paper §6, eq. 6; App H): how many distinct images the top-m
// selections of n features hold, and how many features share each image.
#include <cstdint>
#include <map>
#include <vector>

namespace tension::analysis {

// U = |X_1 ∪ ... ∪ X_n| / (n m) (paper eq. 6) for n selections of at most m distinct images each: 1 when no image
// repeats, 1/n when every feature selected the same m images. Throws tension::Error for no selections, m < 1, or
// a selection holding more than m images or an image twice.
double uniqueness(const std::vector<std::vector<int64_t>>& selections, int64_t m);

// For every image in any selection, how many selections hold it (App H counts images in the top-100 of at least
// 15 of 20 features; Fig 16).
std::map<int64_t, int> selection_counts(const std::vector<std::vector<int64_t>>& selections);

}  // namespace tension::analysis
