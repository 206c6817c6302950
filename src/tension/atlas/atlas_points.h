#pragma once
// The atlas's images (paper §5; docs/paper-code.md §2.11 stage 2): their full cropped attribution S recomputed in a
// second pass over them alone (the run's top images by the L2,1 norm, analysis::select_top with Rule::L21).
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "tension/attribution/attributor.h"
#include "tension/data/dataset.h"

namespace tension::atlas {

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
// images are skipped (and logged). In an MPI job every rank attributes its share of the batches and rank 0 returns
// them all, in order; the other ranks return no points.
AtlasPoints attribute_points(attribution::Attributor& attributor, const data::Dataset& ds,
                             const std::vector<int64_t>& images, const PointsOptions& opt = {});

}  // namespace tension::atlas
