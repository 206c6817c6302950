#include "tension/model/effective_field.h"

#include <algorithm>

#include "tension/core/blur.h"
#include "tension/core/error.h"
#include "tension/model/input_range.h"

namespace tension::model {

Box EffectiveField::box_at(double threshold) const {
  auto b = support_box(map, threshold);
  const auto& s = support;
  b = {std::max(b.top, s.top), std::max(b.left, s.left), std::min(b.bottom, s.bottom), std::min(b.right, s.right)};
  if (b.height() <= 0 || b.width() <= 0) b = s;
  return square_box(b, map.size(0), map.size(1));
}

EffectiveField effective_receptive_field(Model& model, const Tap& tap, const Readout& readout,
                                         const EffectiveFieldOptions& opt) {
  if (opt.samples < 1 || opt.steps < 1) throw Error("the effective receptive field needs samples >= 1 and steps >= 1");
  if (!(opt.threshold >= 0 && opt.threshold < 1)) throw Error("the receptive-field threshold must be in [0, 1)");
  const auto& in = model.input_spec();
  auto gen = at::detail::createCPUGenerator(opt.seed);
  // The leaf is in [0, 1]-pixel units, as the paper code's noise before range_normalize.
  auto u = torch::randn({opt.samples, in.channels, in.height, in.width}, gen).to(model.device());
  auto total = torch::zeros({in.height, in.width}, u.options().dtype(torch::kDouble));
  // The whole image: for a tap without positions (every unit of a dense layer sees all of it) or a flat map.
  auto whole = [&] {
    EffectiveField out;
    out.map = torch::ones({in.height, in.width});
    out.support = out.box = {0, 0, in.height, in.width};
    return out;
  };
  RunOptions ro;
  ro.differentiable = true;
  for (int64_t step = 0; step < opt.steps; ++step) {
    auto leaf = u.detach().requires_grad_(true);
    auto x = model::to_model_range(leaf, in);
    auto res = model.run(x, {tap}, ro);
    if (res.taps[0].dim() != 4) return whole();
    auto value = readout(res.taps[0]).sum();
    if (!value.requires_grad()) throw Error("layer " + tap.str() + " does not depend on the input");
    auto g_model = torch::autograd::grad({value}, {res.input}, {}, false, false, true)[0];
    if (!g_model.defined()) throw Error("layer " + tap.str() + " does not depend on the input");
    auto g = torch::autograd::grad({x}, {leaf}, {g_model})[0];
    total += g.abs().sum(std::vector<int64_t>{0, 1}).to(torch::kDouble);
    u = (leaf + opt.step_size * g).detach();
  }
  const double sigma = opt.blur_fraction * static_cast<double>(std::max(in.height, in.width));
  auto map = gaussian_blur(total.view({1, 1, in.height, in.width}), sigma)[0][0];
  auto lo = map.min(), hi = map.max();
  if ((hi - lo).item<double>() <= 0) return whole();
  EffectiveField out;
  out.map = ((map - lo) / (hi - lo)).to(torch::kFloat).cpu();
  out.support = support_box(total.cpu());
  out.box = out.box_at(opt.threshold);
  return out;
}

}  // namespace tension::model
