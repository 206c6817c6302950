#pragma once
// One feature and attribution layer of a run, seen through its images: the rows the selection rules read, and
// the pictures a researcher looks at (crops to the feature's receptive field, with their ± overlays).
#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include "tension/analysis/selection.h"
#include "tension/data/dataset.h"
#include "tension/model/model.h"
#include "tension/model/effective_field.h"
#include "tension/render/posneg.h"
#include "tension/store/run_store.h"

namespace tension::analysis {

// A run store row as the selection rules read it (its phi maps moved in).
SelectionItem selection_item(store::AttributionRecord row);
// The rows of one feature and layer of a run, streamed from its store in dataset order (the store must outlive the
// source): what select_top() reads.
ItemSource store_source(const store::RunStore& store, size_t feature, size_t layer);

struct FeatureViewOptions {
  int64_t canvas = 160;          // side of a crop as drawn, in pixels
  double blur_fraction = 2.0 / 512;  // blur sd as a fraction of the image side (the paper: 2 px at 512)
  double overlay_lo_pct = 50, overlay_hi_pct = 95;  // thresholds pooled over the shown set
  model::EffectiveFieldOptions field;  // the crop: the feature's effective receptive field (threshold 0.05)
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(FeatureViewOptions, canvas, blur_fraction, overlay_lo_pct, overlay_hi_pct, field)

// Reads the run store as the selection rules and figures ask: rows stream from it and single rows are fetched by
// image, so that memory does not grow with the run (a million rows cost what ten thousand do).
class FeatureView {
 public:
  // feature and layer index into the run's config. model and data must be the run's (the CLI rebuilds them
  // from the store's config); the store must outlive the view. `field`: the crop when the caller has it already
  // (features at one position of a layer, drawn side by side); otherwise the feature's effective receptive field
  // is measured.
  FeatureView(const store::RunStore& store, model::Model& model, const data::Dataset& data, size_t feature,
              size_t layer, FeatureViewOptions opt = {}, std::optional<model::Box> field = std::nullopt);

  // How many images the run holds for the feature at the layer.
  size_t size() const { return rows_; }
  // Its rows, streamed from the store in dataset order (store_source).
  ItemSource source() const { return store_source(store_, feature_, layer_index_); }
  // One image's row, with its phi maps; tension::Error when the run has none.
  SelectionItem row(int64_t image) const;
  store::ImageRecord record(int64_t image) const;
  const std::string& feature_spec() const { return feature_spec_; }
  const std::string& layer() const { return layer_; }
  // The feature's effective receptive field in input pixels, square (analysis/feature_field.h): the crop.
  const model::Box& receptive_field() const { return rf_; }

  // A dataset image as the model sees it, in [0, 1]: [C, H, W]. Loads and decodes it: callers pass it on to crop()
  // and overlay_crop().
  torch::Tensor image(int64_t image) const;
  // An image cropped to the effective receptive field, drawn `side` pixels a side (0: the canvas size): [3, S, S].
  torch::Tensor crop(const torch::Tensor& image, int64_t side = 0) const;
  // The overlay thresholds for a shown set of rows (pooled percentiles of phi+ and phi-).
  render::PosNegRange range(const std::vector<SelectionItem>& shown) const;
  // The crop with its ± overlay over a grey copy: [3, S, S]. Needs the layer to have positions and the row its maps.
  torch::Tensor overlay_crop(const SelectionItem& row, const torch::Tensor& image, const render::PosNegRange& range,
                             int64_t side = 0) const;
  // Whether the attribution layer has positions (overlays need them).
  bool has_positions() const { return layer_h_ > 0; }
  // The side at which pages keep crops for the browser to scale: the field's own, at most the canvas size.
  int64_t page_side() const;

 private:
  const store::RunStore& store_;
  const data::Dataset& data_;
  model::Model& model_;
  FeatureViewOptions opt_;
  size_t feature_, layer_index_;
  size_t rows_ = 0;
  std::string feature_spec_, layer_;
  model::Box rf_, footprint_;
  int64_t layer_h_ = 0, layer_w_ = 0;   // the attribution layer's spatial size (0: no positions)
  int64_t map_h_ = 0, map_w_ = 0;       // the footprint's size

  torch::Tensor resized_crop(const torch::Tensor& chw, int64_t side) const;
};

}  // namespace tension::analysis
