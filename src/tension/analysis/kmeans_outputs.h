#pragma once
// What `tension kmeans` writes: a layer's spherical k-means centroids and, on request, the paper's spread-out
// pick of directions (App B, H), as .npy matrices usable as features everywhere (LAYER:@FILE.npy#i).
#include <nlohmann/json.hpp>

#include <string>

#include "tension/analysis/kmeans.h"
#include "tension/core/manifest.h"
#include "tension/model/model_source.h"

namespace tension::analysis {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(KMeansOptions, k, iterations, seed)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(HiddenSampleOptions, limit, batch_size, seed)

struct KMeansRunOptions {
  model::ModelSource model;
  std::string data, layer;
  KMeansOptions kmeans;         // its seed, and the sample's, are the model's
  HiddenSampleOptions sample;
  int64_t pick = 0;             // spread-out directions: k-means on the centroids, one per group (0: every centroid)
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(KMeansRunOptions, model, data, layer, kmeans, sample, pick)

// Writes centroids.npy and directions.npy into run.dir().
void kmeans_run(const KMeansRunOptions& opt, RunManifest& run);

}  // namespace tension::analysis
