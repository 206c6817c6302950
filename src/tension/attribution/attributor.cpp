#include "tension/attribution/attributor.h"

#include <algorithm>
#include <limits>

#include "tension/core/error.h"

namespace tension::attribution {

namespace {

constexpr size_t kNone = std::numeric_limits<size_t>::max();

size_t tap_index(std::vector<model::Tap>& taps, const model::Tap& t) {
  auto it = std::find(taps.begin(), taps.end(), t);
  if (it != taps.end()) return static_cast<size_t>(it - taps.begin());
  taps.push_back(t);
  return taps.size() - 1;
}

torch::Tensor crop(const torch::Tensor& t, const model::Box& b) {
  return t.slice(-2, b.top, b.bottom).slice(-1, b.left, b.right);
}

}  // namespace

Attributor::Attributor(model::Model& m, AttributorOptions opt) : model_(m), opt_(std::move(opt)) {
  if (opt_.features.empty()) throw Error("no feature to attribute");
  if (opt_.layers.empty()) throw Error("no attribution layer given");
  std::vector<std::string> names;
  for (const auto& l : model_.layers()) names.push_back(l.name);
  for (const auto& f : opt_.features) {
    auto tap = feature::feature_tap(model_, f.layer);
    model::check_layer_exists(model_.name(), tap.layer, names);
    feature_tap_.push_back(tap_index(taps_, tap));
  }
  for (const auto& l : opt_.layers) {
    if (l == kInputLayer) {
      layer_tap_.push_back(kNone);
      continue;
    }
    auto tap = model::parse_tap(l);
    model::check_layer_exists(model_.name(), tap.layer, names);
    layer_tap_.push_back(tap_index(taps_, tap));
  }
  for (size_t k = 0; k < opt_.features.size(); ++k) {
    const auto& f = opt_.features[k];
    auto readout = [&f](const torch::Tensor& act) { return feature::read_feature(f, act); };
    std::vector<model::Box> boxes;
    for (size_t l = 0; l < opt_.layers.size(); ++l) {
      std::optional<model::Tap> source;
      if (layer_tap_[l] != kNone) source = taps_[layer_tap_[l]];
      model::Box box;
      if (!opt_.find_footprints) {
        boxes.push_back(box);
        continue;
      }
      try {
        box = model::gradient_support(model_, taps_[feature_tap_[k]], readout, source, opt_.footprint);
      } catch (const Error&) {
        box = {};  // a layer without positions: the footprint is the whole vector
      }
      boxes.push_back(box);
    }
    footprints_.push_back(boxes);
  }
}

std::vector<FeatureAttribution> Attributor::attribute(const torch::Tensor& x) {
  model::RunOptions ro;
  ro.differentiable = true;
  auto res = model_.run(x, taps_, ro);
  std::vector<torch::Tensor> hs;
  for (size_t i : layer_tap_) hs.push_back(i == kNone ? res.input : res.taps[i]);

  std::vector<FeatureAttribution> out;
  for (size_t k = 0; k < opt_.features.size(); ++k) {
    const auto& f = opt_.features[k];
    FeatureAttribution fa;
    auto fv = feature::read_feature(f, res.taps[feature_tap_[k]]);
    bool last = k + 1 == opt_.features.size();
    // Samples do not interact in eval mode, so the gradient of the batch sum is each sample's own gradient.
    auto grads = torch::autograd::grad({fv.sum()}, hs, {}, !last, false, true);
    fa.fv = fv.detach();
    for (size_t l = 0; l < hs.size(); ++l) {
      if (!grads[l].defined()) {
        throw Error("attribution layer " + opt_.layers[l] + " does not feed feature " + f.spec +
                    ": it must come before the feature's layer");
      }
      auto s = layer_attribution(grads[l], hs[l].detach());
      LayerAttribution la;
      la.totals = attribution_totals(s);
      if (s.dim() == 4) {
        auto box = footprints_[k][l];
        if (box.height() == 0) box = {0, 0, s.size(2), s.size(3)};
        la.footprint = box;
        auto sc = crop(s, box);
        std::tie(la.phi_pos, la.phi_neg) = phi_maps(sc);
        la.channels = s.sum(std::vector<int64_t>{2, 3});
        if (opt_.keep_s) la.s = sc;
      } else {
        la.channels = s.reshape({s.size(0), -1});
        if (opt_.keep_s) la.s = la.channels;
      }
      fa.layers.push_back(std::move(la));
    }
    out.push_back(std::move(fa));
  }
  return out;
}

}  // namespace tension::attribution
