#pragma once
// The atlas's images (paper §5; docs/paper-code.md §2.11 stage 2): the run's top images by the
// L2,1 attribution norm, and their full cropped attribution S recomputed in a second pass over them alone.
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "tension/attribution/attributor.h"
#include "tension/data/dataset.h"
#include "tension/store/run_store.h"

namespace tension::atlas {

// One image of the run, for the selection figure and the ranking.
struct RunImage {
  int64_t image = 0;   // dataset index
  double fv = 0, e_pos = 0, e_neg = 0, l21 = 0;
};

// The run's rows for one feature and layer, by dataset index.
std::vector<RunImage> run_images(const store::RunStore& st, size_t feature, size_t layer);

// Indices into `all` of the top `n` by L2,1 norm (ties to the lower dataset index), best first; all of them
// when there are fewer.
std::vector<size_t> top_by_l21(const std::vector<RunImage>& all, size_t n);

struct AtlasPoints {
  std::vector<int64_t> images;   // dataset indices (the readable ones of those asked for)
  torch::Tensor fv;              // [N]
  torch::Tensor s;               // [N, C, h, w] S cropped to the feature's footprint in the layer
  torch::Tensor vectors;         // [N, C] S summed over the footprint: the UMAP input
};

struct PointsOptions {
  size_t batch_size = 64;
  int decode_threads = 2;
  bool progress = true;
};

// S of the attributor's only feature at its only layer (it must keep S) for the given images. Unreadable
// images are skipped (and logged).
AtlasPoints attribute_points(attribution::Attributor& attributor, const data::Dataset& ds,
                             const std::vector<int64_t>& images, const PointsOptions& opt = {});

}  // namespace tension::atlas
