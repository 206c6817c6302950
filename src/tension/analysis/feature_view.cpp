#include "tension/analysis/feature_view.h"

#include <algorithm>
#include <cmath>

#include "tension/analysis/feature_field.h"
#include "tension/attribution/attributor.h"
#include "tension/core/error.h"
#include "tension/data/preprocess.h"
#include "tension/model/input_range.h"
#include "tension/feature/feature.h"

namespace tension::analysis {

SelectionItem selection_item(store::AttributionRecord row) {
  SelectionItem it;
  it.image = row.image;
  it.fv = row.fv;
  it.e_pos = row.e_pos;
  it.e_neg = row.e_neg;
  it.l1 = row.l1;
  it.l2 = row.l2;
  it.l21 = row.l21;
  it.phi_pos = std::move(row.phi_pos);
  it.phi_neg = std::move(row.phi_neg);
  return it;
}

FeatureView::FeatureView(const store::RunStore& store, model::Model& model, const data::Dataset& data,
                         size_t feature, size_t layer, FeatureViewOptions opt, std::optional<model::Box> field)
    : store_(store),
      data_(data),
      model_(model),
      opt_(opt),
      feature_(feature),
      layer_index_(layer) {
  const auto& cfg = store.config();
  if (feature >= cfg["features"].size()) {
    throw Error("the run has " + std::to_string(cfg["features"].size()) + " feature(s)");
  }
  if (layer >= cfg["layers"].size()) throw Error("the run has " + std::to_string(cfg["layers"].size()) + " layer(s)");
  feature_spec_ = cfg["features"][feature].get<std::string>();
  layer_ = cfg["layers"][layer].get<std::string>();
  auto layout = store.meta("layout");
  if (!layout.is_array() || layout.size() <= feature) {
    throw Error("the run store has no layout: re-run tension attribute");
  }
  auto fb = layout[feature]["layers"][layer]["footprint"];
  footprint_ = {fb[0].get<int64_t>(), fb[1].get<int64_t>(), fb[2].get<int64_t>(), fb[3].get<int64_t>()};

  rows_ = static_cast<size_t>(store.count_attributions(static_cast<int64_t>(feature), static_cast<int64_t>(layer)));
  if (rows_ == 0) throw Error("the run holds no attributions yet for " + feature_spec_ + " at " + layer_);

  // Geometry at the model's input size: the feature's receptive field and the attribution layer's size.
  const auto& in = model_.input_spec();
  rf_ = field ? *field
             : feature_field(model_, feature::parse_feature(feature_spec_, cfg.value("cos_power", 0)), opt_.field);
  if (layer_ == attribution::kInputLayer) {
    layer_h_ = in.height;
    layer_w_ = in.width;
  } else {
    auto act = model_.run(model::random_inputs(model_, {1, 0}), {model::parse_tap(layer_)}).taps[0];
    if (act.dim() == 4) {
      layer_h_ = act.size(2);
      layer_w_ = act.size(3);
    }
  }
  if (footprint_.height() == 0) footprint_ = {0, 0, layer_h_, layer_w_};
  map_h_ = footprint_.height();
  map_w_ = footprint_.width();
}

ItemSource store_source(const store::RunStore& store, size_t feature, size_t layer) {
  return [&store, feature, layer](bool maps, const ItemVisitor& visit) {
    store::RowQuery q;
    q.feature = static_cast<int64_t>(feature);
    q.layer = static_cast<int64_t>(layer);
    q.maps = maps;
    store.for_each_attribution(q, [&](store::AttributionRecord&& r) { visit(selection_item(std::move(r))); });
  };
}

SelectionItem FeatureView::row(int64_t image) const {
  store::RowQuery q;
  q.feature = static_cast<int64_t>(feature_);
  q.layer = static_cast<int64_t>(layer_index_);
  q.maps = true;
  auto r = store_.attribution(image, q);
  if (!r) throw Error("the run holds no attribution of image " + std::to_string(image) + " for " + feature_spec_);
  return selection_item(std::move(*r));
}

store::ImageRecord FeatureView::record(int64_t image) const {
  auto r = store_.image(image);
  if (!r) throw Error("the run holds no image " + std::to_string(image));
  return *r;
}

torch::Tensor FeatureView::image(int64_t image) const {
  auto x = data::preprocess(data_.load(static_cast<size_t>(image)), model_.input_spec());
  return model::to_unit_range(x.unsqueeze(0), model_.input_spec())[0].clamp(0, 1);
}

torch::Tensor FeatureView::resized_crop(const torch::Tensor& chw, int64_t side) const {
  return crop_resized(chw, rf_, side > 0 ? side : opt_.canvas);
}

int64_t FeatureView::page_side() const { return std::min(opt_.canvas, std::max(rf_.height(), rf_.width())); }

torch::Tensor FeatureView::crop(const torch::Tensor& image, int64_t side) const {
  auto c = resized_crop(image, side);
  return c.size(0) == 1 ? c.expand({3, -1, -1}).contiguous() : c;
}

render::PosNegRange FeatureView::range(const std::vector<SelectionItem>& shown) const {
  std::vector<torch::Tensor> pos, neg;
  for (const auto& it : shown) {
    pos.push_back(torch::tensor(it.phi_pos));
    neg.push_back(torch::tensor(it.phi_neg));
  }
  return render::posneg_range(pos, neg, opt_.overlay_lo_pct, opt_.overlay_hi_pct);
}

torch::Tensor FeatureView::overlay_crop(const SelectionItem& it, const torch::Tensor& image,
                                        const render::PosNegRange& range, int64_t side) const {
  if (layer_h_ == 0 || it.phi_pos.empty()) throw Error("layer " + layer_ + " has no positions: no ± overlay");
  if (static_cast<int64_t>(it.phi_pos.size()) != map_h_ * map_w_) {
    throw Error("the stored phi maps do not match the footprint recorded in the run's layout");
  }
  // The maps over the footprint, placed in the whole layer, so that upsampling aligns them with the image.
  auto full = torch::zeros({2, layer_h_, layer_w_});
  full[0].slice(0, footprint_.top, footprint_.bottom).slice(1, footprint_.left, footprint_.right) =
      torch::tensor(it.phi_pos).view({map_h_, map_w_});
  full[1].slice(0, footprint_.top, footprint_.bottom).slice(1, footprint_.left, footprint_.right) =
      torch::tensor(it.phi_neg).view({map_h_, map_w_});
  const auto& in = model_.input_spec();
  auto rgba = render::posneg_overlay(full[0], full[1], range, in.height, in.width,
                                     opt_.blur_fraction * static_cast<double>(std::max(in.height, in.width)));
  auto composite = render::composite_over_grey(image, rgba);
  return resized_crop(composite, side);
}

}  // namespace tension::analysis
