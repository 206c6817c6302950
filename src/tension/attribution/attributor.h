#pragma once
// Layer-to-feature attribution for a batch: one forward pass for every feature and layer, one backward pass
// per feature reaching all its attribution layers (paper §2-3, eq. 1-3).
#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include "tension/attribution/attribution_plan.h"
#include "tension/attribution/terms.h"
#include "tension/core/cache_dir.h"
#include "tension/core/error.h"
#include "tension/feature/feature.h"
#include "tension/model/input_crop.h"
#include "tension/model/model.h"
#include "tension/model/receptive_field.h"

namespace tension::attribution {

// The attribution layer name that means the model's input (pixel attribution).
inline const char* const kInputLayer = "input";

struct AttributorOptions {
  std::vector<feature::Feature> features;
  std::vector<std::string> layers;          // attribution layers: taps ("mixed3a", "features.4:in") or "input"
  bool keep_s = false;                      // keep the cropped S [N, C, h, w] per sample
  model::ReceptiveFieldOptions footprint;   // how footprints are found (layer arithmetic; measured on request)
  bool find_footprints = true;              // false: phi maps and S span the whole layer
  // Run on the input crop that covers the features' receptive fields, aligned to the network's stride, so
  // that every number equals the uncropped computation (checked on random inputs when planned; the full
  // input is used where the check fails or the model cannot take another size).
  bool crop_input = true;
  // For single-position features and attribution layers inside the network: run the part after each layer only
  // on the features' windows of it, one replica per feature, with one backward pass for all (again checked
  // equal to the full computation on random inputs when planned, and used only where it is cheaper).
  bool layer_windows = true;
  // Check the input crop and the layer windows against the plain computation (on one random input) when
  // planning; false only on explicit request (`tension attribute --no-verify`, recorded in run.json).
  bool verify = true;
  // Where plans are cached, keyed by everything they depend on (attribution_plan.h); empty: no cache.
  std::string plan_cache = user_cache_dir();
  // A plan to use as it is (a run store's own), instead of planning.
  std::optional<AttributionPlan> plan;
};

// Where the attributor's plan came from.
enum class PlanSource { planned, cache, given };

struct LayerAttribution {
  model::Box footprint;        // positions of the layer the feature depends on; whole map for [N, C] layers
  Totals totals;               // over the whole layer (S is zero outside the footprint)
  torch::Tensor phi_pos;       // [N, h, w] over the footprint (undefined for layers without positions)
  torch::Tensor phi_neg;
  torch::Tensor channels;      // [N, C]: S summed over positions
  torch::Tensor s;             // [N, C, h, w] cropped to the footprint, when keep_s
};

struct FeatureAttribution {
  torch::Tensor fv;                      // [N] the feature's value (pre-ReLU where the model offers it)
  std::vector<LayerAttribution> layers;  // in AttributorOptions::layers order
};

class Attributor {
 public:
  // Validates features and layers against the model and finds every (feature, layer) footprint.
  Attributor(model::Model& m, AttributorOptions opt);

  // x: a preprocessed batch [N, C, H, W]. Results per feature, in AttributorOptions::features order.
  std::vector<FeatureAttribution> attribute(const torch::Tensor& x);

  const model::Box& footprint(size_t feature, size_t layer) const { return footprints_[feature][layer]; }
  // The input crop in use; empty (height 0) when the full input is used.
  const model::Box& input_crop() const { return crop_.plan.box; }
  // Whether attribute() runs on the features' windows of the attribution layers (AttributorOptions::layer_windows).
  bool uses_layer_windows() const { return !suffix_.empty(); }
  const AttributorOptions& options() const { return opt_; }
  const AttributionPlan& plan() const { return plan_; }
  PlanSource plan_source() const { return plan_source_; }
  model::Model& model() const { return model_; }

 private:
  model::Model& model_;
  AttributorOptions opt_;
  std::vector<model::Tap> taps_;               // unique taps: feature taps, then attribution layers
  std::vector<size_t> feature_tap_, layer_tap_;  // index into taps_ (layer_tap_ = npos for the input)
  std::vector<std::vector<model::Box>> footprints_;

  // Features and footprints in the coordinates of the cropped input.
  struct Crop {
    model::InputCrop plan;
    std::vector<feature::Feature> features;
    std::vector<std::vector<model::Box>> footprints;
  };
  Crop crop_;

  // Attribution on windows of the layer: after a forward without autograd up to the attribution layers, each
  // feature's window of a layer (its footprint, aligned to the stride between layer and feature) is run
  // through the rest of the network as one replica of a batch, with one backward pass for all features.
  // Per layer, the features whose windows have one size form a group; empty when not in use.
  struct SuffixGroup {
    std::vector<size_t> features;            // indices into the features
    std::vector<model::Box> windows;         // per feature, in the coordinates compute() gets
    std::vector<feature::Feature> in_window; // per feature, its position within its window's run
  };
  std::vector<std::vector<SuffixGroup>> suffix_;
  AttributionPlan plan_;
  PlanSource plan_source_ = PlanSource::planned;

  void make_plan();
  bool use_plan(const AttributionPlan& p);  // false when p does not fit these features and layers
  std::string plan_key() const;
  void find_footprints();
  void plan_crop();
  Crop crop_from(model::InputCrop plan) const;
  void plan_suffix();
  // One random input (cropped when a crop is in use): the layer windows' sizes and their check come from it.
  torch::Tensor probe_input() const;
  // The layer windows widened by `margin` strides; nullopt where they do not apply (or, with must_save, save
  // nothing).
  std::optional<std::vector<std::vector<SuffixGroup>>> suffix_windows(int64_t margin,
                                                                      const std::vector<torch::Tensor>& shapes,
                                                                      bool must_save) const;
  std::vector<FeatureAttribution> compute(const torch::Tensor& x, const std::vector<feature::Feature>& features,
                                          const std::vector<std::vector<model::Box>>& footprints);
  std::vector<FeatureAttribution> compute_suffix(const torch::Tensor& x,
                                                 const std::vector<std::vector<SuffixGroup>>& plan,
                                                 const std::vector<std::vector<model::Box>>& footprints);
  Error not_feeding(size_t layer, const feature::Feature& f) const;
};

}  // namespace tension::attribution
