#pragma once
// The feature attribution atlas of one feature and layer of a run (paper §5, Fig 6; docs/paper-code.md
// §2.11): select the top images by L2,1 norm, recompute their S, lay out S summed over space with UMAP, grid the
// layout, invert an icon per dense cell, and compose the atlas, its figures and its interactive page.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "tension/atlas/atlas_image.h"
#include "tension/atlas/grid.h"
#include "tension/atlas/icons.h"
#include "tension/atlas/umap.h"
#include "tension/core/manifest.h"
#include "tension/data/dataset.h"
#include "tension/model/effective_field.h"
#include "tension/model/model.h"
#include "tension/store/run_store.h"

namespace tension::atlas {

// The paper code's crop for the atlas: the effective receptive field thresholded at 0.2 (figures use 0.05).
inline model::EffectiveFieldOptions atlas_field() {
  model::EffectiveFieldOptions f;
  f.threshold = 0.2;
  return f;
}

struct AtlasOptions {
  size_t images = 10000;          // the top N images of the run by L2,1 norm (the paper: 100,000 training images)
  UmapOptions umap;               // 10 neighbours, min_dist 0.1, cosine, seed 0
  CellGridOptions grid;           // 30 x 30, more than 5 points make an icon
  IconOptions icons;              // lr 0.06, 202 steps, dot*cos^2, 30 per batch
  TileOptions tile;               // icon side and border (colour limits are set from the run)
  double colour_sds = 7;          // border colours: mean -/+ this many sd of f_v over the run's images
  size_t spectrum_images = 2000;  // MACO's magnitude spectrum from the first N images of the dataset
  int top_images = 8;             // per cell on the page
  size_t batch_size = 64;         // the second attribution pass
  model::EffectiveFieldOptions field = atlas_field();  // icon and page crops: threshold 0.2, the paper's atlas
};

// As run.json records them: what decides the numbers (not threads, progress, or the spectrum's values).
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(UmapOptions, neighbors, min_dist, spread, epochs, seed, cosine,
                                   negative_sample_rate, learning_rate, repulsion_strength, exact_knn_max)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(CellGridOptions, n, min_points)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(IconOptions, steps, lr, draws, cos_power, batch, canvas, param, opacity_clip, seed)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(TileOptions, px, border)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(AtlasOptions, images, umap, grid, icons, tile, colour_sds, spectrum_images,
                                   top_images, batch_size, field)

// Writes into run.dir(): selection.png (Fig 6a), layout.png (Fig 6b), atlas.png (Fig 6c), page.html with its
// pictures, layout.csv, cells.csv, layout.npy, vectors.npy, and icons/ (the resumable icon stage). Results and
// stage timings go into run["results"]["atlas"].
void write_atlas(const store::RunStore& st, model::Model& m, const data::Dataset& ds, size_t feature, size_t layer,
                 const AtlasOptions& opt, RunManifest& run);

struct AtlasRunOptions {
  std::string run;                         // a run folder written by `tension attribute --keep-channels`
  std::string feature = "0", layer = "0";  // the run's feature and layer, by index or name
  AtlasOptions atlas;
  std::string device = "cpu";              // where the model runs; not recorded
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(AtlasRunOptions, run, feature, layer, atlas)

// `tension atlas`: opens the run, records the options and writes the atlas into run.dir() (write_atlas).
void atlas_run(const AtlasRunOptions& opt, RunManifest& run);

}  // namespace tension::atlas
