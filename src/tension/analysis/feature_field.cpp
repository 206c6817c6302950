#include "tension/analysis/feature_field.h"

#include <algorithm>

namespace tension::analysis {

model::Box feature_field(model::Model& m, const feature::Feature& f, const model::EffectiveFieldOptions& opt) {
  auto readout = [&](const torch::Tensor& act) { return feature::read_feature(f, act); };
  return model::effective_receptive_field(m, feature::feature_tap(m, f.layer), readout, opt).box;
}

torch::Tensor crop_resized(const torch::Tensor& chw, const model::Box& box, int64_t side) {
  namespace F = torch::nn::functional;
  auto c = chw.slice(1, box.top, box.bottom).slice(2, box.left, box.right).unsqueeze(0).to(torch::kFloat);
  return F::interpolate(c, F::InterpolateFuncOptions()
                               .size(std::vector<int64_t>{side, side})
                               .mode(torch::kBilinear)
                               .align_corners(false))[0]
      .clamp(0, 1);
}

torch::Tensor field_crop(const torch::Tensor& image, const model::Box& field, const model::InputSpec& in) {
  const int64_t h = image.size(1), w = image.size(2);
  return crop_resized(image, model::scale_box(field, in.height, in.width, h, w), std::max(h, w));
}

}  // namespace tension::analysis
