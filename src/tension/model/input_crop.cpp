#include "tension/model/input_crop.h"

#include <algorithm>

namespace tension::model {

namespace {

int64_t floor_to(int64_t v, int64_t s) { return v >= 0 ? v / s * s : -((-v + s - 1) / s) * s; }
int64_t ceil_to(int64_t v, int64_t s) { return floor_to(v + s - 1, s); }

}  // namespace

Box aligned_box(const Box& b, int64_t margin, int64_t stride, int64_t h, int64_t w) {
  return {std::max<int64_t>(0, floor_to(b.top - margin, stride)),
          std::max<int64_t>(0, floor_to(b.left - margin, stride)), std::min(h, ceil_to(b.bottom + margin, stride)),
          std::min(w, ceil_to(b.right + margin, stride))};
}

Box shifted_box(const Box& b, int64_t dr, int64_t dc) {
  if (b.height() == 0) return b;
  return {b.top - dr, b.left - dc, b.bottom - dr, b.right - dc};
}

torch::Tensor crop_to(const torch::Tensor& t, const Box& b) {
  if (b.height() == 0) return t;
  return t.slice(-2, b.top, b.bottom).slice(-1, b.left, b.right);
}

Box InputCrop::shift(size_t tap, const Box& b) const {
  if (box.height() == 0) return b;
  return shifted_box(b, box.top / stride[tap], box.left / stride[tap]);
}

InputCrop plan_input_crop(Model& model, const std::vector<Tap>& taps, const std::vector<CropNeed>& needs,
                          const InputCropOptions& opt) {
  InputCrop none;
  const auto& in = model.input_spec();
  if (in.fixed_size || needs.empty()) return none;
  // Every tap's stride with respect to the input, from its size at the model's input size.
  auto probe = random_inputs(model, {1, opt.field.seed});
  auto acts = model.run(probe, taps, {}).taps;
  std::vector<int64_t> stride(taps.size());
  int64_t s_max = 1;
  for (size_t i = 0; i < taps.size(); ++i) {
    const auto& t = acts[i];
    if (t.dim() != 4 || in.height % t.size(2) != 0 || in.width % t.size(3) != 0 ||
        in.height / t.size(2) != in.width / t.size(3)) {
      return none;
    }
    stride[i] = in.height / t.size(2);
    s_max = std::max(s_max, stride[i]);
  }
  for (int64_t s : stride) {
    if (s_max % s != 0) return none;
  }
  // The receptive field of each wanted box: every channel at its positions (a unit that random inputs never
  // excite has the field of its position, which the architecture alone decides).
  std::vector<Box> needed;
  std::vector<SupportQuery> queries;
  for (const auto& n : needs) {
    Box b = n.positions(acts[n.tap]);
    if (b.height() <= 0 || b.width() <= 0) return none;
    needed.push_back(b);
    queries.push_back({taps[n.tap],
                       [b](const torch::Tensor& act) { return crop_to(act, b).sum(std::vector<int64_t>{1, 2, 3}); },
                       [b](const torch::Tensor&) { return b; }});
  }
  auto fields = supports(model, queries, {std::nullopt}, opt.field);
  Box u{in.height, in.width, 0, 0};
  for (const auto& f : fields) {
    const Box& rf = f[0];
    if (rf.height() == 0) return none;
    u = {std::min(u.top, rf.top), std::min(u.left, rf.left), std::max(u.bottom, rf.bottom),
         std::max(u.right, rf.right)};
  }
  InputCrop c;
  c.box = aligned_box(u, s_max, s_max, in.height, in.width);
  if (c.box.height() * c.box.width() > opt.max_fraction * static_cast<double>(in.height * in.width)) return none;
  c.stride = std::move(stride);
  c.needed = std::move(needed);
  return c;
}

}  // namespace tension::model
