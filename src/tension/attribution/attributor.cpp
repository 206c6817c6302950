#include "tension/attribution/attributor.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
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
  footprints_.assign(opt_.features.size(), std::vector<model::Box>(opt_.layers.size()));
  if (opt_.find_footprints) find_footprints();
  plan_crop();
  plan_suffix();
}

void Attributor::find_footprints() {
  std::vector<std::optional<model::Tap>> sources;
  for (size_t i : layer_tap_) sources.push_back(i == kNone ? std::nullopt : std::optional<model::Tap>(taps_[i]));
  std::vector<model::SupportQuery> queries;
  for (size_t k = 0; k < opt_.features.size(); ++k) {
    const auto& f = opt_.features[k];
    queries.push_back({taps_[feature_tap_[k]], [&f](const torch::Tensor& act) { return feature::read_feature(f, act); },
                       [&f](const torch::Tensor& act) { return feature::feature_box(f, act); }});
  }
  footprints_ = model::supports(model_, queries, sources, opt_.footprint);
  // A measured footprint of a unit that random inputs never excite is empty: take the footprint of every channel
  // at its position, which the architecture alone decides. (Layers without positions keep an empty box: the
  // whole vector.)
  std::vector<size_t> unexcited;
  std::vector<model::SupportQuery> all_channels;
  for (size_t k = 0; k < opt_.features.size(); ++k) {
    auto empty = [](const model::Box& b) { return b.height() == 0; };
    if (!std::any_of(footprints_[k].begin(), footprints_[k].end(), empty)) continue;
    unexcited.push_back(k);
    const model::Tap& tap = taps_[feature_tap_[k]];
    all_channels.push_back({tap, [&f = opt_.features[k], tap](const torch::Tensor& act) {
                              if (act.dim() != 4) return act.reshape({act.size(0), -1}).sum(1);
                              auto [r, c] = feature::feature_position(f, act);
                              return model::unit_at(act, tap, r, c);
                            },
                            nullptr});
  }
  if (unexcited.empty()) return;
  auto boxes = model::gradient_supports(model_, all_channels, sources, opt_.footprint);
  for (size_t i = 0; i < unexcited.size(); ++i) {
    for (size_t l = 0; l < sources.size(); ++l) {
      auto& box = footprints_[unexcited[i]][l];
      if (box.height() == 0) box = boxes[i][l];
    }
  }
}

namespace {

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

// Totals and channel sums over all of s; phi maps and the kept S over `box` (all of s when empty).
LayerAttribution summarize(const torch::Tensor& s, model::Box box, bool keep_s) {
  LayerAttribution la;
  la.totals = attribution_totals(s);
  if (s.dim() != 4) {
    la.channels = s.reshape({s.size(0), -1});
    if (keep_s) la.s = la.channels;
    return la;
  }
  if (box.height() == 0) box = {0, 0, s.size(2), s.size(3)};
  la.footprint = box;
  auto sc = model::crop_to(s, box);
  std::tie(la.phi_pos, la.phi_neg) = phi_maps(sc);
  la.channels = s.sum(std::vector<int64_t>{2, 3});
  if (keep_s) la.s = sc;
  return la;
}

}  // namespace

void Attributor::plan_crop() {
  if (!opt_.crop_input || !opt_.find_footprints) return;
  // The features' positions; the attribution layers only need their footprints translated.
  std::vector<model::CropNeed> needs;
  for (size_t k = 0; k < opt_.features.size(); ++k) {
    needs.push_back({feature_tap_[k], [&f = opt_.features[k]](const torch::Tensor& act) {
                       return feature::feature_box(f, act);
                     }});
  }
  model::InputCropOptions co;
  co.field = opt_.footprint;
  Crop c;
  c.plan = model::plan_input_crop(model_, taps_, needs, co);
  if (c.plan.box.height() == 0) return;
  for (size_t k = 0; k < opt_.features.size(); ++k) {
    auto f = opt_.features[k];
    const auto at = c.plan.shift(feature_tap_[k], c.plan.needed[k]);
    f.row = at.top;
    f.col = at.left;
    c.features.push_back(f);
    std::vector<model::Box> boxes;
    for (size_t l = 0; l < opt_.layers.size(); ++l) {
      boxes.push_back(layer_tap_[l] == kNone ? model::shifted_box(footprints_[k][l], c.plan.box.top, c.plan.box.left)
                                             : c.plan.shift(layer_tap_[l], footprints_[k][l]));
    }
    c.footprints.push_back(boxes);
  }
  // Exact or not at all: compare with the full computation on random inputs.
  auto x = model::random_inputs(model_, {2, opt_.footprint.seed + 1});
  try {
    auto full = compute(x, opt_.features, footprints_);
    if (!same_results(compute(model::crop_to(x, c.plan.box), c.features, c.footprints), full)) {
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
  const bool cropped = crop_.plan.box.height() != 0;
  if (cropped && (x.size(2) != model_.input_spec().height || x.size(3) != model_.input_spec().width)) {
    throw Error("the attributor was planned for " + std::to_string(model_.input_spec().height) + "x" +
                std::to_string(model_.input_spec().width) + " inputs, got " + c10::str(x.sizes()));
  }
  auto xc = cropped ? model::crop_to(x, crop_.plan.box) : x;
  const auto& fps = cropped ? crop_.footprints : footprints_;
  auto out = suffix_.empty() ? compute(xc, cropped ? crop_.features : opt_.features, fps)
                             : compute_suffix(xc, suffix_, fps);
  for (size_t k = 0; cropped && k < out.size(); ++k) {
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
      if (!grads[l].defined()) throw not_feeding(l, f);
      fa.layers.push_back(summarize(layer_attribution(grads[l], hs[l].detach()), footprints[k][l], opt_.keep_s));
    }
    out.push_back(std::move(fa));
  }
  return out;
}

Error Attributor::not_feeding(size_t layer, const feature::Feature& f) const {
  return Error("attribution layer " + opt_.layers[layer] + " does not feed feature " + f.spec +
               ": it must come before the feature's layer");
}

void Attributor::plan_suffix() {
  if (!opt_.layer_windows || !opt_.find_footprints) return;
  for (size_t i : layer_tap_) {
    if (i == kNone) return;  // pixel attribution needs the whole forward anyway
  }
  const bool cropped = crop_.plan.box.height() != 0;
  const auto& features = cropped ? crop_.features : opt_.features;
  const auto& fps = cropped ? crop_.footprints : footprints_;
  auto x = model::random_inputs(model_, {2, opt_.footprint.seed + 2});
  if (cropped) x = model::crop_to(x, crop_.plan.box);
  auto shapes = model_.run(x, taps_, {}).taps;
  const auto K = static_cast<int64_t>(features.size());

  // Windows as tight as the stride between layer and feature allows first, then widened by one stride; the
  // plain computation they must equal is made once.
  std::optional<std::vector<FeatureAttribution>> full;
  for (int64_t margin : {0, 1}) {
    std::vector<std::vector<SuffixGroup>> plan;
    for (size_t l = 0; l < opt_.layers.size(); ++l) {
      const auto& h = shapes[layer_tap_[l]];
      if (h.dim() != 4) return;
      std::map<std::pair<int64_t, int64_t>, SuffixGroup> groups;  // by window size: one batch each
      int64_t area = 0;
      for (size_t k = 0; k < features.size(); ++k) {
        const auto& t = shapes[feature_tap_[k]];
        const auto& fp = fps[k][l];
        if (t.dim() != 4 || fp.height() == 0 || h.size(2) % t.size(2) != 0 || h.size(3) % t.size(3) != 0 ||
            h.size(2) / t.size(2) != h.size(3) / t.size(3)) {
          return;  // no positions, or no regular grid between layer and feature
        }
        const int64_t r = h.size(2) / t.size(2);
        model::Box w = model::aligned_box(fp, margin * r, r, h.size(2), h.size(3));
        auto f = features[k];
        auto [row, col] = feature::feature_position(f, t);
        f.row = row - w.top / r;
        f.col = col - w.left / r;
        auto& g = groups[{w.height(), w.width()}];
        g.features.push_back(k);
        g.windows.push_back(w);
        g.in_window.push_back(f);
        area += w.height() * w.width();
      }
      // One forward and backward over K windows against one forward and K backward passes over the layer.
      if (3 * area >= (1 + 2 * K) * h.size(2) * h.size(3)) return;
      std::vector<SuffixGroup> gs;
      for (auto& [size, g] : groups) gs.push_back(std::move(g));
      plan.push_back(std::move(gs));
    }
    // Exact or not at all, as for the input crop.
    try {
      if (!full) full = compute(x, features, fps);
      if (same_results(compute_suffix(x, plan, fps), *full)) {
        suffix_ = std::move(plan);
        return;
      }
    } catch (const Error& e) {
      spdlog::debug("attribution on layer windows not used: {}", e.what());
      return;
    }
  }
  spdlog::debug("attribution on layer windows not used: it differs from the full computation");
}

std::vector<FeatureAttribution> Attributor::compute_suffix(const torch::Tensor& x,
                                                           const std::vector<std::vector<SuffixGroup>>& plan,
                                                           const std::vector<std::vector<model::Box>>& footprints) {
  std::vector<model::Tap> layer_taps;
  for (size_t i : layer_tap_) layer_taps.push_back(taps_[i]);
  auto hs = model_.run(x, layer_taps, {}).taps;  // the prefix, without autograd
  const int64_t n = x.size(0);
  std::vector<FeatureAttribution> out(opt_.features.size());
  for (auto& fa : out) fa.layers.resize(opt_.layers.size());
  model::RunOptions ro;
  ro.differentiable = true;
  for (size_t l = 0; l < plan.size(); ++l) {
    for (const auto& g : plan[l]) {
      // Feature j of the group reads replica j: its own window of the layer.
      std::vector<torch::Tensor> windows;
      std::vector<model::Tap> ftaps;
      std::vector<size_t> slot;
      for (size_t j = 0; j < g.features.size(); ++j) {
        windows.push_back(model::crop_to(hs[l], g.windows[j]));
        slot.push_back(tap_index(ftaps, taps_[feature_tap_[g.features[j]]]));
      }
      auto res = model_.run_from(layer_taps[l], torch::cat(windows, 0), ftaps, ro);
      std::vector<torch::Tensor> fvs;
      for (size_t j = 0; j < g.features.size(); ++j) {
        fvs.push_back(feature::read_feature(g.in_window[j], res.taps[slot[j]].narrow(0, j * n, n)));
      }
      // Replicas do not interact: one backward of the sum gives every feature's gradient on its own replica.
      auto grad = torch::autograd::grad({torch::stack(fvs).sum()}, {res.input}, {}, false, false, true)[0];
      if (!grad.defined()) throw not_feeding(l, g.in_window.front());
      auto s = layer_attribution(grad, res.input.detach());
      for (size_t j = 0; j < g.features.size(); ++j) {
        const size_t k = g.features[j];
        const auto& w = g.windows[j];
        auto la = summarize(s.narrow(0, j * n, n), model::shifted_box(footprints[k][l], w.top, w.left), opt_.keep_s);
        la.footprint = footprints[k][l];
        out[k].layers[l] = std::move(la);
        if (!out[k].fv.defined()) out[k].fv = fvs[j].detach();
      }
    }
  }
  return out;
}

}  // namespace tension::attribution
