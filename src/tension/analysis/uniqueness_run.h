#pragma once
// `tension uniqueness`: the paper's superposition experiment (§6, eq. 6, Fig 8a/8b; App H, Fig 16). For each
// feature layer, n features of two families (random units at the centre; the spread-out k-means directions read
// as dot*cos^2) are attributed to the layer's preceding cut in one resumable pass; their top-m images by f_v
// (MEIs), ||S||_1 and ||S||_2 give the uniqueness U of each selector, and the images many features share.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tension/analysis/feature_view.h"
#include "tension/core/cache_dir.h"
#include "tension/core/manifest.h"
#include "tension/model/model_source.h"
#include "tension/store/attribute_run.h"

namespace tension::analysis {

struct UniquenessOptions {
  model::ModelSource model;                     // its seed draws the units and seeds k-means
  std::string data;                             // a dataset spec
  std::vector<std::string> layers;              // feature layers, in depth order
  std::vector<std::string> attribution_layers;  // one per layer; empty: each layer's preceding cut
  int64_t n = 20;                               // features per layer and family
  int64_t m = 100;                              // images per feature and selector
  std::vector<std::string> families = {"units", "kmeans"};
  std::vector<std::string> selectors = {"mei", "l1", "l2"};  // single selection rules (mei, l1, l2, l21, ...)
  int shared_min = 15;      // Fig 16: images in the top-m of at least this many features
  int64_t kmeans_k = 1000;  // App H's first-stage clusters
  int64_t kmeans_iterations = 50;
  std::string rows_layer;  // Fig 8b's layer (default: the deepest)
  int64_t rows = 3;        // Fig 8b: MEIs and MTIs per feature
  // Fig 8b and Fig 16: their crops cost one effective receptive field per layer (300 passes of noise images), a
  // fixed cost that dominates small runs of large models; false skips both (Fig 8a is always drawn).
  bool crop_figures = true;
  store::PassOptions pass;
  bool verify = true;
  std::string plan_cache = user_cache_dir();
  FeatureViewOptions view;  // the crops of Fig 8b and Fig 16
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(UniquenessOptions, model, data, layers, attribution_layers, n, m, families,
                                   selectors, shared_min, kmeans_k, kmeans_iterations, rows_layer, rows, crop_figures,
                                   pass, verify, plan_cache, view)

// Runs the experiment into run.dir(): per layer LAYER/kmeans (tension kmeans) and LAYER/attribution (a run store,
// resumed when present); uniqueness.csv, shared.csv, fig8a, fig8b, fig16 and run.json's results. Every check of
// the options (layer names, a preceding cut, m against the images, n against the channels and k) runs before any
// work; failures are tension::Error.
void uniqueness_run(const UniquenessOptions& opt, RunManifest& run);

}  // namespace tension::analysis
