#include "tension/model/receptive_field.h"

#include "tension/core/error.h"
#include "tension/data/preprocess.h"

namespace tension::model {

Box support_box(const torch::Tensor& map2d, double threshold) {
  auto mask = (map2d > threshold);
  auto rows = mask.any(1).nonzero();
  auto cols = mask.any(0).nonzero();
  if (rows.numel() == 0) return {};
  return {rows.min().item<int64_t>(), cols.min().item<int64_t>(), rows.max().item<int64_t>() + 1,
          cols.max().item<int64_t>() + 1};
}

torch::Tensor random_inputs(const Model& model, const ReceptiveFieldOptions& opt) {
  const auto& in = model.input_spec();
  auto gen = at::detail::createCPUGenerator(opt.seed);
  auto unit = torch::rand({opt.samples, in.channels, in.height, in.width}, gen);
  return data::to_model_range(unit, in).to(model.device());
}

namespace {

// Spatial support of d(value)/d(wrt), united over the batch and channels of wrt [N, C, H, W].
Box grad_support(const torch::Tensor& value, const torch::Tensor& wrt, bool retain) {
  if (!value.requires_grad()) return {};
  auto g = torch::autograd::grad({value}, {wrt}, {}, retain, false, true)[0];
  if (!g.defined()) return {};
  return support_box(g.abs().sum(std::vector<int64_t>{0, 1}).cpu());
}

torch::Tensor unit_at(const torch::Tensor& t, const Tap& tap, int64_t row, int64_t col) {
  if (t.dim() != 4) throw Error("layer " + tap.str() + " has no spatial positions");
  if (row < 0 || row >= t.size(2) || col < 0 || col >= t.size(3)) {
    throw Error("position @" + std::to_string(row) + "," + std::to_string(col) + " is outside layer " +
                tap.str() + " (" + std::to_string(t.size(2)) + "x" + std::to_string(t.size(3)) + ")");
  }
  return t.index({torch::indexing::Slice(), torch::indexing::Slice(), row, col}).sum(1);
}

std::vector<TapGeometry> tap_geometry_one_pass(Model& model, const std::vector<Tap>& taps,
                                               const ReceptiveFieldOptions& opt) {
  RunOptions ro;
  ro.differentiable = true;
  auto res = model.run(random_inputs(model, opt), taps, ro);
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
    auto value = g.spatial ? unit_at(t, g.tap, g.row, g.col).sum() : t.sum();
    g.rf = grad_support(value, res.input, true);
  }
  return out;
}

}  // namespace

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

Box gradient_support(Model& model, const Tap& target, const Readout& readout, const std::optional<Tap>& source,
                     const ReceptiveFieldOptions& opt) {
  RunOptions ro;
  ro.differentiable = true;
  std::vector<Tap> taps{target};
  if (source) taps.push_back(*source);
  auto res = model.run(random_inputs(model, opt), taps, ro);
  const auto& from = source ? res.taps[1] : res.input;
  if (from.dim() != 4) throw Error("layer " + source->str() + " has no spatial positions");
  return grad_support(readout(res.taps[0]).sum(), from, false);
}

Box receptive_field(Model& model, const Tap& tap, int64_t row, int64_t col,
                    const ReceptiveFieldOptions& opt) {
  auto unit = [&](const torch::Tensor& t) { return unit_at(t, tap, row, col); };
  return gradient_support(model, tap, unit, std::nullopt, opt);
}

}  // namespace tension::model
