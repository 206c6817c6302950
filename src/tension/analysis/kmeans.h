#pragma once
// k-means directions (paper App B, H): spherical k-means (cosine) on hidden vectors, and the two-stage pick
// of spread-out directions.
#include <torch/torch.h>

#include "tension/data/dataset.h"
#include "tension/model/model.h"

namespace tension::analysis {

struct KMeansOptions {
  int64_t k = 1000;
  int64_t iterations = 50;   // at most; stops earlier when no assignment changes
  uint64_t seed = 0;
};

struct KMeansResult {
  torch::Tensor centroids;   // [k, d], unit length
  torch::Tensor assignment;  // [n] cluster of each row
  int64_t iterations = 0;
};

// Spherical k-means of the rows of x [n, d]: rows are normalised, k-means++ seeding on cosine distance, Lloyd
// steps assigning each row to its most similar centroid and setting centroids to normalised means; an empty
// cluster takes the row least similar to its centroid. Throws tension::Error when k > n or k < 1.
KMeansResult spherical_kmeans(const torch::Tensor& x, const KMeansOptions& opt);

// The paper's pick of spread-out directions: k-means with `groups` clusters on the centroids, then one random
// original centroid from each group: [groups, d].
torch::Tensor spread_directions(const torch::Tensor& centroids, int64_t groups, uint64_t seed);

struct HiddenSampleOptions {
  size_t limit = 0;          // first N images (0 = all)
  size_t batch_size = 64;
  uint64_t seed = 0;
};

// One hidden vector per image, at a random position of `tap` ([C] per image; [N, C] layers give their vector):
// [images, C] on the CPU. Batch b of `batch_size` images draws its positions from seed + b. In an MPI job the ranks
// share the batches and rank 0 returns the whole sample; the other ranks return an undefined tensor.
torch::Tensor sample_hidden_vectors(model::Model& model, const data::Dataset& ds, const model::Tap& tap,
                                    const HiddenSampleOptions& opt);

}  // namespace tension::analysis
