#include "tension/attribution/attributor.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>
#include <set>
#include <tuple>

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
    // A unit that random inputs never excite has no gradient: take the footprint of every channel at its
    // position, which the architecture alone decides.
    auto all_channels = [&f](const torch::Tensor& act) {
      if (act.dim() != 4) return act.reshape({act.size(0), -1}).sum(1);
      auto [r, c] = feature::feature_position(f, act);
      return act.index({torch::indexing::Slice(), torch::indexing::Slice(), r, c}).sum(1);
    };
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
        if (box.height() == 0) {
          box = model::gradient_support(model_, taps_[feature_tap_[k]], all_channels, source, opt_.footprint);
        }
      } catch (const Error&) {
        box = {};  // a layer without positions: the footprint is the whole vector
      }
      boxes.push_back(box);
    }
    footprints_.push_back(boxes);
  }
  plan_crop();
}

namespace {

int64_t floor_to(int64_t v, int64_t s) { return v >= 0 ? v / s * s : -((-v + s - 1) / s) * s; }
int64_t ceil_to(int64_t v, int64_t s) { return floor_to(v + s - 1, s); }

model::Box shifted(const model::Box& b, int64_t dr, int64_t dc) {
  if (b.height() == 0) return b;
  return {b.top - dr, b.left - dc, b.bottom - dr, b.right - dc};
}

bool same_results(const std::vector<FeatureAttribution>& a, const std::vector<FeatureAttribution>& b) {
  auto close = [](const torch::Tensor& x, const torch::Tensor& y) {
    if (!x.defined() || !y.defined()) return x.defined() == y.defined();
    if (x.sizes() != y.sizes()) return false;
    double scale = std::max(y.abs().max().item<double>(), 1e-12);
    return (x - y).abs().max().item<double>() <= 1e-4 * scale;
  };
  for (size_t k = 0; k < a.size(); ++k) {
    if (!close(a[k].fv, b[k].fv)) return false;
    for (size_t l = 0; l < a[k].layers.size(); ++l) {
      const auto &x = a[k].layers[l], &y = b[k].layers[l];
      if (!close(x.totals.e_pos, y.totals.e_pos) || !close(x.totals.e_neg, y.totals.e_neg) ||
          !close(x.phi_pos, y.phi_pos) || !close(x.phi_neg, y.phi_neg)) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

void Attributor::plan_crop() {
  const auto& in = model_.input_spec();
  if (!opt_.crop_input || !opt_.find_footprints || in.fixed_size) return;
  // Every tap's stride with respect to the input, from its size at the model's input size.
  auto probe = model::random_inputs(model_, {1, opt_.footprint.seed});
  auto shapes = model_.run(probe, taps_, {}).taps;
  std::vector<int64_t> stride(taps_.size());
  int64_t s_max = 1;
  for (size_t i = 0; i < taps_.size(); ++i) {
    const auto& t = shapes[i];
    if (t.dim() != 4 || in.height % t.size(2) != 0 || in.width % t.size(3) != 0 ||
        in.height / t.size(2) != in.width / t.size(3)) {
      return;  // a layer without positions, or not on a regular grid: no exact crop
    }
    stride[i] = in.height / t.size(2);
    s_max = std::max(s_max, stride[i]);
  }
  for (int64_t s : stride) {
    if (s_max % s != 0) return;
  }
  // The union of the features' receptive fields, widened by one stride, aligned to the coarsest grid. The
  // field of all channels at the feature's position: a unit that random inputs never excite has the same one.
  model::Box u{in.height, in.width, 0, 0};
  std::set<std::tuple<size_t, int64_t, int64_t>> seen;  // features often share a layer and position
  for (size_t k = 0; k < opt_.features.size(); ++k) {
    size_t t = feature_tap_[k];
    auto [r, col] = feature::feature_position(opt_.features[k], shapes[t]);
    if (!seen.insert({t, r, col}).second) continue;
    auto rf = model::receptive_field(model_, taps_[t], r, col, opt_.footprint);
    if (rf.height() == 0) return;
    u = {std::min(u.top, rf.top), std::min(u.left, rf.left), std::max(u.bottom, rf.bottom),
         std::max(u.right, rf.right)};
  }
  Crop c;
  c.box = {std::max<int64_t>(0, floor_to(u.top - s_max, s_max)), std::max<int64_t>(0, floor_to(u.left - s_max, s_max)),
           std::min(in.height, ceil_to(u.bottom + s_max, s_max)), std::min(in.width, ceil_to(u.right + s_max, s_max))};
  if (c.box.height() * c.box.width() > 0.8 * in.height * in.width) return;  // not worth it
  for (size_t k = 0; k < opt_.features.size(); ++k) {
    auto f = opt_.features[k];
    size_t t = feature_tap_[k];
    auto [r, col] = feature::feature_position(f, shapes[t]);
    f.row = r - c.box.top / stride[t];
    f.col = col - c.box.left / stride[t];
    c.features.push_back(f);
    std::vector<model::Box> boxes;
    for (size_t l = 0; l < opt_.layers.size(); ++l) {
      int64_t s = layer_tap_[l] == kNone ? 1 : stride[layer_tap_[l]];
      boxes.push_back(shifted(footprints_[k][l], c.box.top / s, c.box.left / s));
    }
    c.footprints.push_back(boxes);
  }
  // Exact or not at all: compare with the full computation on random inputs.
  auto x = model::random_inputs(model_, {2, opt_.footprint.seed + 1});
  try {
    auto full = compute(x, opt_.features, footprints_);
    if (!same_results(compute(crop(x, c.box), c.features, c.footprints), full)) {
      spdlog::warn("input crop disabled: the cropped computation differs from the full one");
      return;
    }
  } catch (const Error& e) {
    spdlog::warn("input crop disabled: {}", e.what());
    return;
  }
  crop_ = std::move(c);
}

std::vector<FeatureAttribution> Attributor::attribute(const torch::Tensor& x) {
  if (crop_.box.height() == 0) return compute(x, opt_.features, footprints_);
  if (x.size(2) != model_.input_spec().height || x.size(3) != model_.input_spec().width) {
    throw Error("the attributor was planned for " + std::to_string(model_.input_spec().height) + "x" +
                std::to_string(model_.input_spec().width) + " inputs, got " + c10::str(x.sizes()));
  }
  auto out = compute(crop(x, crop_.box), crop_.features, crop_.footprints);
  for (size_t k = 0; k < out.size(); ++k) {
    for (size_t l = 0; l < out[k].layers.size(); ++l) out[k].layers[l].footprint = footprints_[k][l];
  }
  return out;
}

std::vector<FeatureAttribution> Attributor::compute(const torch::Tensor& x,
                                                    const std::vector<feature::Feature>& features,
                                                    const std::vector<std::vector<model::Box>>& footprints) {
  model::RunOptions ro;
  ro.differentiable = true;
  auto res = model_.run(x, taps_, ro);
  std::vector<torch::Tensor> hs;
  for (size_t i : layer_tap_) hs.push_back(i == kNone ? res.input : res.taps[i]);

  std::vector<FeatureAttribution> out;
  for (size_t k = 0; k < features.size(); ++k) {
    const auto& f = features[k];
    FeatureAttribution fa;
    auto fv = feature::read_feature(f, res.taps[feature_tap_[k]]);
    bool last = k + 1 == features.size();
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
        auto box = footprints[k][l];
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
