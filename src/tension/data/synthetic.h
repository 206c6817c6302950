#pragma once
// Synthetic datasets for tests and demos: images whose content, and so whose features, are known by
// construction. Each item is generated on demand from (seed, index), so it is the same on every call and
// thread; its random draws are the same on every platform too (std::mt19937_64, fixed by the C++ standard).
//
// Spec (the part after "synthetic:"): NAME[?KEY=VALUE&...] with keys
//   n         number of items, 1 .. 2^32                 (default 64)
//   size      height = width in pixels, 2 .. 4096        (default 32)
//   channels  1 (grey) or 3 (RGB)                        (default 3)
//   seed      random seed                                (default 0)
//   classes   number of labels, gratings/blobs, 1 .. 64  (default 4)
// Generators (label of item i = i mod classes, so classes are balanced):
//   noise     independent uniform [0, 1) pixels; no labels (-1)
//   gratings  a sinusoidal grating 0.5 + 0.5·c·g_ch·sin(2π f (x cos θ + y sin θ) / size + φ) (x right, y down;
//             θ is the direction across the stripes): θ uniform in orientation bin [label, label + 1) · 180° /
//             classes, f uniform in [2, 6] cycles per image, φ uniform, contrast c in [0.5, 1], channel gains
//             g_ch in [0.5, 1]; class names "0deg", "45deg", ... (the bins' lower ends)
//   blobs     label + 1 Gaussian blobs on black: centres in the middle 70 % of the image, σ in
//             [0.05, 0.12] · size, colours in [0.5, 1] per channel; overlaps clipped at 1; class names "1 blob",
//             "2 blobs", ...
#include <memory>
#include <string>

#include "tension/data/dataset.h"

namespace tension::data {

// Throws tension::Error for an unknown generator or key, or an out-of-range value.
std::unique_ptr<Dataset> open_synthetic(const std::string& spec);

}  // namespace tension::data
