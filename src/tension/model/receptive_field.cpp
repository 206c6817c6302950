#include "tension/model/receptive_field.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

#include "tension/core/device.h"
#include "tension/core/error.h"
#include "tension/model/input_range.h"
#include "tension/model/layer_arithmetic.h"

namespace tension::model {

void to_json(nlohmann::json& j, const Box& b) { j = {b.top, b.left, b.bottom, b.right}; }

const char* to_string(FieldMethod m) { return m == FieldMethod::arithmetic ? "arithmetic" : "gradient"; }

Box support_box(const torch::Tensor& map2d, double threshold) {
  auto mask = (map2d > threshold);
  auto rows = mask.any(1).nonzero();
  auto cols = mask.any(0).nonzero();
  if (rows.numel() == 0) return {};
  return {rows.min().item<int64_t>(), cols.min().item<int64_t>(), rows.max().item<int64_t>() + 1,
          cols.max().item<int64_t>() + 1};
}

Box square_box(Box b, int64_t h, int64_t w) {
  if (b.height() <= 0 || b.width() <= 0) return b;
  auto grow = [](int64_t& lo, int64_t& hi, int64_t want, int64_t limit) {
    int64_t extra = want - (hi - lo);
    lo -= extra / 2;
    hi += extra - extra / 2;
    if (lo < 0) hi -= lo, lo = 0;
    if (hi > limit) lo -= hi - limit, hi = limit;
    lo = std::max<int64_t>(lo, 0);
  };
  int64_t side = std::min(std::max(b.height(), b.width()), std::min(h, w));
  grow(b.top, b.bottom, side, h);
  grow(b.left, b.right, side, w);
  return b;
}

Box scale_box(const Box& b, int64_t h, int64_t w, int64_t to_h, int64_t to_w) {
  const double sy = static_cast<double>(to_h) / h, sx = static_cast<double>(to_w) / w;
  auto at = [](double v, int64_t hi) { return std::clamp<int64_t>(static_cast<int64_t>(std::lround(v)), 0, hi); };
  Box out;
  out.top = at(b.top * sy, to_h - 1);
  out.left = at(b.left * sx, to_w - 1);
  out.bottom = std::max(out.top + 1, at(b.bottom * sy, to_h));
  out.right = std::max(out.left + 1, at(b.right * sx, to_w));
  return out;
}

torch::Tensor random_inputs(const Model& model, const ReceptiveFieldOptions& opt) {
  const auto& in = model.input_spec();
  auto gen = at::detail::createCPUGenerator(opt.seed);
  auto unit = torch::rand({opt.samples, in.channels, in.height, in.width}, gen);
  return model::to_model_range(unit, in).to(model.device());
}

namespace {

// Spatial support of a gradient [N, C, H, W], united over the batch and channels.
Box gradient_box(const torch::Tensor& g) { return support_box(g.abs().sum(std::vector<int64_t>{0, 1}).cpu()); }

// Spatial support of d(value)/d(wrt).
Box grad_support(const torch::Tensor& value, const torch::Tensor& wrt, bool retain) {
  if (!value.requires_grad()) return {};
  auto g = torch::autograd::grad({value}, {wrt}, {}, retain, false, true)[0];
  return g.defined() ? gradient_box(g) : Box{};
}

std::vector<TapGeometry> tap_geometry_one_pass(Model& model, const std::vector<Tap>& taps,
                                               const ReceptiveFieldOptions& opt) {
  ExactZerosGuard exact(model.device());
  RunOptions ro;
  ro.differentiable = true;
  ro.want_output = true;  // the tapped forward analyse_cuts runs on the same taps: `tension layers` builds it once
  const bool arithmetic = opt.method == FieldMethod::arithmetic;
  auto res = model.run(random_inputs(model, {arithmetic ? 1 : opt.samples, opt.seed}), taps, ro);
  std::optional<LayerArithmetic> la;
  if (arithmetic) la.emplace(res.input);
  std::vector<size_t> measure;  // taps the arithmetic does not cover
  std::vector<TapGeometry> out(taps.size());
  for (size_t i = 0; i < taps.size(); ++i) {
    auto& g = out[i];
    g.tap = taps[i];
    const auto& t = res.taps[i];
    auto sizes = t.sizes().vec();
    g.shape.assign(sizes.begin() + 1, sizes.end());
    g.spatial = t.dim() == 4;
    if (!t.requires_grad()) {
      g.error = "does not depend on the input";
      continue;
    }
    // A non-spatial unit: the field of the whole vector (every unit of a dense layer sees the same pixels).
    if (g.spatial) {
      g.row = t.size(2) / 2;
      g.col = t.size(3) / 2;
    }
    if (la) {
      if (auto box = la->box(t, {g.row, g.col, g.row + 1, g.col + 1})) {
        g.rf = *box;
        continue;
      }
      spdlog::debug("receptive field of {}: measured, the arithmetic does not cover {}", g.tap.str(), la->uncovered());
      measure.push_back(i);
      continue;
    }
    g.method = FieldMethod::gradient;
    auto value = g.spatial ? unit_at(t, g.tap, g.row, g.col).sum() : t.sum();
    g.rf = grad_support(value, res.input, true);
  }
  if (measure.empty()) return out;
  auto gradient = opt;
  gradient.method = FieldMethod::gradient;
  std::vector<Tap> measure_taps;
  for (size_t i : measure) measure_taps.push_back(taps[i]);
  auto measured = tap_geometry_one_pass(model, measure_taps, gradient);
  for (size_t j = 0; j < measure.size(); ++j) out[measure[j]] = measured[j];
  return out;
}

}  // namespace

torch::Tensor unit_at(const torch::Tensor& t, const Tap& tap, int64_t row, int64_t col) {
  if (t.dim() != 4) throw Error("layer " + tap.str() + " has no spatial positions");
  if (row < 0 || row >= t.size(2) || col < 0 || col >= t.size(3)) {
    throw Error("position @" + std::to_string(row) + "," + std::to_string(col) + " is outside layer " +
                tap.str() + " (" + std::to_string(t.size(2)) + "x" + std::to_string(t.size(3)) + ")");
  }
  return t.index({torch::indexing::Slice(), torch::indexing::Slice(), row, col}).sum(1);
}

std::vector<TapGeometry> tap_geometry(Model& model, const std::vector<Tap>& taps,
                                      const ReceptiveFieldOptions& opt) {
  try {
    return tap_geometry_one_pass(model, taps, opt);
  } catch (const Error&) {
    if (taps.size() == 1) throw;
  }
  // Some tap could not be taken (e.g. a module returning a tuple): describe the others one at a time.
  std::vector<TapGeometry> out;
  for (const auto& t : taps) {
    try {
      out.push_back(tap_geometry_one_pass(model, {t}, opt)[0]);
    } catch (const Error& e) {
      TapGeometry g;
      g.tap = t;
      g.error = e.what();
      out.push_back(g);
    }
  }
  return out;
}

namespace {

// One differentiable forward of `samples` random inputs: the queries' targets, then each source's tensor (the
// input where a source is unset).
struct QueryRun {
  std::vector<torch::Tensor> targets, sources;
};

QueryRun run_queries(Model& model, const std::vector<SupportQuery>& queries,
                     const std::vector<std::optional<Tap>>& sources, int64_t samples, uint64_t seed) {
  RunOptions ro;
  ro.differentiable = true;
  std::vector<Tap> taps;
  for (const auto& q : queries) taps.push_back(q.target);
  for (const auto& s : sources) {
    if (s) taps.push_back(*s);
  }
  auto res = model.run(random_inputs(model, {samples, seed}), taps, ro);
  QueryRun r;
  r.targets.assign(res.taps.begin(), res.taps.begin() + static_cast<std::ptrdiff_t>(queries.size()));
  for (size_t s = 0, next = queries.size(); s < sources.size(); ++s) {
    r.sources.push_back(sources[s] ? res.taps[next++] : res.input);
  }
  return r;
}

}  // namespace

std::vector<std::vector<Box>> gradient_supports(Model& model, const std::vector<SupportQuery>& queries,
                                                const std::vector<std::optional<Tap>>& sources,
                                                const ReceptiveFieldOptions& opt) {
  ExactZerosGuard exact(model.device());
  auto run = run_queries(model, queries, sources, opt.samples, opt.seed);
  const auto& from = run.sources;
  std::vector<std::vector<Box>> boxes(queries.size(), std::vector<Box>(sources.size()));
  for (size_t q = 0; q < queries.size(); ++q) {
    auto value = queries[q].readout(run.targets[q]).sum();
    if (!value.requires_grad()) continue;
    auto grads = torch::autograd::grad({value}, from, {}, q + 1 < queries.size(), false, true);
    for (size_t s = 0; s < sources.size(); ++s) {
      if (grads[s].defined() && grads[s].dim() == 4) boxes[q][s] = gradient_box(grads[s]);
    }
  }
  return boxes;
}

std::vector<std::vector<Box>> supports(Model& model, const std::vector<SupportQuery>& queries,
                                       const std::vector<std::optional<Tap>>& sources,
                                       const ReceptiveFieldOptions& opt) {
  if (opt.method == FieldMethod::gradient) return gradient_supports(model, queries, sources, opt);
  auto run = run_queries(model, queries, sources, 1, opt.seed);
  std::vector<std::optional<LayerArithmetic>> from;
  for (const auto& t : run.sources) {
    from.emplace_back();
    if (t.dim() == 4 && t.requires_grad()) from.back().emplace(t);
  }
  std::vector<std::vector<Box>> boxes(queries.size(), std::vector<Box>(sources.size()));
  std::vector<size_t> measure;  // queries the arithmetic does not cover
  for (size_t q = 0; q < queries.size(); ++q) {
    const auto& t = run.targets[q];
    bool covered = static_cast<bool>(queries[q].positions);
    for (size_t s = 0; covered && s < sources.size(); ++s) {
      if (!from[s] || !t.requires_grad()) continue;  // no positions, or no dependence: an empty box
      auto b = from[s]->box(t, queries[q].positions(t));
      if (!b) {
        spdlog::debug("footprint of {} on {}: measured, the arithmetic does not cover {}", queries[q].target.str(),
                      sources[s] ? sources[s]->str() : "the input", from[s]->uncovered());
        covered = false;
        break;
      }
      boxes[q][s] = *b;
    }
    if (!covered) measure.push_back(q);
  }
  if (measure.empty()) return boxes;
  std::vector<SupportQuery> rest;
  for (size_t q : measure) rest.push_back(queries[q]);
  auto measured = gradient_supports(model, rest, sources, opt);
  for (size_t j = 0; j < measure.size(); ++j) boxes[measure[j]] = measured[j];
  return boxes;
}

Box receptive_field(Model& model, const Tap& tap, int64_t row, int64_t col,
                    const ReceptiveFieldOptions& opt) {
  auto unit = [&](const torch::Tensor& t) { return unit_at(t, tap, row, col); };
  auto at = [&](const torch::Tensor& t) {
    unit_at(t, tap, row, col);  // the position's checks
    return Box{row, col, row + 1, col + 1};
  };
  return supports(model, {{tap, unit, at}}, {std::nullopt}, opt)[0][0];
}

}  // namespace tension::model
