#include "tension/attribution/attributor.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <tuple>

#include "tension/core/error.h"
#include "tension/core/sha256.h"
#include "tension/core/stopwatch.h"

namespace tension::attribution {

namespace {

constexpr size_t kNone = std::numeric_limits<size_t>::max();

size_t tap_index(std::vector<model::Tap>& taps, const model::Tap& t) {
  auto it = std::find(taps.begin(), taps.end(), t);
  if (it != taps.end()) return static_cast<size_t>(it - taps.begin());
  taps.push_back(t);
  return taps.size() - 1;
}

// The first name that a list gives twice, if any.
std::optional<std::string> given_twice(const std::vector<std::string>& names) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (std::find(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(i), names[i]) !=
        names.begin() + static_cast<std::ptrdiff_t>(i)) {
      return names[i];
    }
  }
  return std::nullopt;
}

}  // namespace

Attributor::Attributor(model::Model& m, AttributorOptions opt) : model_(m), opt_(std::move(opt)) {
  if (opt_.features.empty()) throw Error("no feature to attribute");
  if (opt_.layers.empty()) throw Error("no attribution layer given");
  // A feature or layer given twice would attribute it twice and store rows no reader can tell apart.
  std::vector<std::string> specs;
  for (const auto& f : opt_.features) specs.push_back(f.spec);
  if (auto twice = given_twice(specs)) throw Error("feature " + *twice + " is given twice");
  if (auto twice = given_twice(opt_.layers)) throw Error("attribution layer " + *twice + " is given twice");
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
  if (opt_.plan) {
    if (!use_plan(*opt_.plan)) throw Error("the plan given does not fit the features and layers");
    plan_source_ = PlanSource::given;
    return;
  }
  const std::string key = opt_.plan_cache.empty() ? std::string() : plan_key();
  if (!key.empty()) {
    if (auto cached = load_cached_plan(opt_.plan_cache, key); cached && use_plan(*cached)) {
      plan_source_ = PlanSource::cache;
      spdlog::info("plan: from the cache ({}/plans/{}.json)", opt_.plan_cache, key);
      return;
    }
  }
  make_plan();
  if (!key.empty()) save_cached_plan(opt_.plan_cache, key, plan_);
}

void Attributor::make_plan() {
  const Stopwatch t0;
  if (opt_.find_footprints) {
    find_footprints();
    spdlog::info("plan: footprints of {} feature(s) on {} layer(s) in {:.2f} s ({})", opt_.features.size(),
                 opt_.layers.size(), t0.seconds(), model::to_string(opt_.footprint.method));
  }
  plan_crop();
  plan_suffix();
  plan_.footprints = footprints_;
  plan_.verified = opt_.verify;
}

std::string Attributor::plan_key() const {
  const auto& in = model_.input_spec();
  nlohmann::json features = nlohmann::json::array();
  for (const auto& f : opt_.features) {
    std::string direction;
    if (f.direction.defined()) {
      auto d = f.direction.to(torch::kCPU, torch::kFloat).contiguous();
      direction = sha256_string(std::string(static_cast<const char*>(d.data_ptr()), d.numel() * sizeof(float)));
    }
    features.push_back({f.spec, f.layer, f.unit, f.row.value_or(-1), f.col.value_or(-1), f.cos_power, direction});
  }
  const nlohmann::json key = {
      {"plan_format", 2},  // 2: native chains run from any layer, so their plans may now use layer windows
      {"model", model_.name()},
      {"weights", model_.weights_id()},
      {"device", model_.device().str()},
      {"input", {in.channels, in.height, in.width, in.fixed_size, in.range_lo, in.range_hi, in.mean, in.std}},
      {"features", features},
      {"layers", opt_.layers},
      {"footprint", {opt_.footprint.samples, opt_.footprint.seed, opt_.footprint.method}},
      {"speed_ups", {opt_.find_footprints, opt_.crop_input, opt_.layer_windows, opt_.verify}}};
  return sha256_string(key.dump());
}

bool Attributor::use_plan(const AttributionPlan& p) {
  const size_t K = opt_.features.size(), L = opt_.layers.size();
  if (p.footprints.size() != K) return false;
  for (const auto& per_layer : p.footprints) {
    if (per_layer.size() != L) return false;
  }
  const bool cropped = p.crop.height() > 0;
  std::vector<int64_t> stride;
  if (cropped) {
    if (p.crop_needed.size() != K) return false;
    for (const auto& t : taps_) {
      auto it = p.crop_stride.find(t.str());
      if (it == p.crop_stride.end() || it->second <= 0) return false;
      stride.push_back(it->second);
    }
  }
  footprints_ = p.footprints;
  crop_ = cropped ? crop_from({p.crop, stride, p.crop_needed}) : Crop{};
  suffix_.clear();
  if (p.suffix_margin >= 0) {
    auto windows = suffix_windows(p.suffix_margin, model_.run(probe_input(), taps_, {}).taps, false);
    if (!windows) return false;
    suffix_ = std::move(*windows);
  }
  plan_ = p;
  return true;
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
  const Stopwatch t0;
  // The features' positions; the attribution layers only need their footprints translated.
  std::vector<model::CropNeed> needs;
  for (size_t k = 0; k < opt_.features.size(); ++k) {
    needs.push_back({feature_tap_[k], [&f = opt_.features[k]](const torch::Tensor& act) {
                       return feature::feature_box(f, act);
                     }});
  }
  model::InputCropOptions co;
  co.field = opt_.footprint;
  auto planned = model::plan_input_crop(model_, taps_, needs, co);
  if (planned.box.height() == 0) {
    spdlog::info("plan: no input crop ({:.2f} s)", t0.seconds());
    return;
  }
  Crop c = crop_from(planned);
  // Exact or not at all: compare with the full computation on a random input.
  if (opt_.verify) {
    auto x = model::random_inputs(model_, {1, opt_.footprint.seed + 1});
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
  }
  const auto& in = model_.input_spec();
  const auto& b = c.plan.box;
  spdlog::info("plan: input crop [{},{}) x [{},{}) ({:.0f} % of the input), {} in {:.2f} s", b.top, b.bottom, b.left,
               b.right, 100.0 * b.height() * b.width() / (in.height * in.width),
               opt_.verify ? "checked equal to the whole input" : "not checked (--no-verify)", t0.seconds());
  plan_.crop = c.plan.box;
  plan_.crop_stride.clear();
  for (size_t i = 0; i < taps_.size(); ++i) plan_.crop_stride[taps_[i].str()] = c.plan.stride[i];
  plan_.crop_needed = c.plan.needed;
  crop_ = std::move(c);
}

Attributor::Crop Attributor::crop_from(model::InputCrop plan) const {
  Crop c;
  c.plan = std::move(plan);
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
  return c;
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

torch::Tensor Attributor::probe_input() const {
  auto x = model::random_inputs(model_, {1, opt_.footprint.seed + 2});
  return crop_.plan.box.height() != 0 ? model::crop_to(x, crop_.plan.box) : x;
}

std::optional<std::vector<std::vector<Attributor::SuffixGroup>>> Attributor::suffix_windows(
    int64_t margin, const std::vector<torch::Tensor>& shapes, bool must_save) const {
  for (size_t i : layer_tap_) {
    if (i == kNone) return std::nullopt;  // pixel attribution needs the whole forward anyway
  }
  const bool cropped = crop_.plan.box.height() != 0;
  const auto& features = cropped ? crop_.features : opt_.features;
  const auto& fps = cropped ? crop_.footprints : footprints_;
  const auto K = static_cast<int64_t>(features.size());
  std::vector<std::vector<SuffixGroup>> plan;
  for (size_t l = 0; l < opt_.layers.size(); ++l) {
    const auto& h = shapes[layer_tap_[l]];
    if (h.dim() != 4) return std::nullopt;
    std::map<std::pair<int64_t, int64_t>, SuffixGroup> groups;  // by window size: one batch each
    int64_t area = 0;
    for (size_t k = 0; k < features.size(); ++k) {
      const auto& t = shapes[feature_tap_[k]];
      const auto& fp = fps[k][l];
      if (t.dim() != 4 || fp.height() == 0 || h.size(2) % t.size(2) != 0 || h.size(3) % t.size(3) != 0 ||
          h.size(2) / t.size(2) != h.size(3) / t.size(3)) {
        return std::nullopt;  // no positions, or no regular grid between layer and feature
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
    if (must_save && 3 * area >= (1 + 2 * K) * h.size(2) * h.size(3)) return std::nullopt;
    std::vector<SuffixGroup> gs;
    for (auto& [size, g] : groups) gs.push_back(std::move(g));
    plan.push_back(std::move(gs));
  }
  return plan;
}

void Attributor::plan_suffix() {
  if (!opt_.layer_windows || !opt_.find_footprints) return;
  const Stopwatch t0;
  const auto x = probe_input();
  const auto shapes = model_.run(x, taps_, {}).taps;
  const bool cropped = crop_.plan.box.height() != 0;
  const auto& features = cropped ? crop_.features : opt_.features;
  const auto& fps = cropped ? crop_.footprints : footprints_;
  // Windows as tight as the stride between layer and feature allows first, then widened by one stride; the
  // plain computation they must equal is made once. Unchecked, only the wider ones.
  std::optional<std::vector<FeatureAttribution>> full;
  for (int64_t margin : opt_.verify ? std::vector<int64_t>{0, 1} : std::vector<int64_t>{1}) {
    auto plan = suffix_windows(margin, shapes, true);
    if (!plan) {
      spdlog::info("plan: no layer windows (they do not apply or save nothing)");
      return;
    }
    bool exact = !opt_.verify;
    if (opt_.verify) {
      try {
        if (!full) full = compute(x, features, fps);
        exact = same_results(compute_suffix(x, *plan, fps), *full);
      } catch (const Error& e) {
        spdlog::info("plan: no layer windows ({})", e.what());
        return;
      }
    }
    if (exact) {
      suffix_ = std::move(*plan);
      plan_.suffix_margin = static_cast<int>(margin);
      spdlog::info("plan: layer windows widened by {} stride(s), {} in {:.2f} s", margin,
                   opt_.verify ? "checked equal to the whole layer" : "not checked (--no-verify)", t0.seconds());
      return;
    }
  }
  spdlog::info("plan: no layer windows (they differ from the full computation)");
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
