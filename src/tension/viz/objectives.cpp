#include "tension/viz/objectives.h"

#include "tension/core/error.h"
#include "tension/model/input_crop.h"

namespace tension::viz {

namespace {

std::function<torch::Tensor(const torch::Tensor&)> signed_value(std::function<torch::Tensor(const torch::Tensor&)> v,
                                                                bool maximise) {
  if (maximise) return v;
  return [v](const torch::Tensor& a) { return -v(a); };
}

void check_spatial(const model::Tap& tap, const torch::Tensor& a) {
  if (a.dim() != 4) throw Error("objective at " + tap.str() + " needs a layer with positions [C, H, W]");
}

}  // namespace

torch::Tensor objective_input(const Objective& o, const torch::Tensor& act) {
  return o.region ? model::crop_to(act, o.region(act)) : act;
}

Objective feature_objective(const model::Model& m, const feature::Feature& f, int64_t item, bool maximise) {
  auto at_origin = f;  // a spatial layer arrives cut to the feature's position
  at_origin.row = 0;
  at_origin.col = 0;
  auto read = [f, at_origin](const torch::Tensor& a) {
    return feature::read_feature(a.dim() == 4 ? at_origin : f, a);
  };
  auto region = [f](const torch::Tensor& a) { return feature::feature_box(f, a); };
  return {(maximise ? "max " : "min ") + f.spec, feature::feature_tap(m, f.layer), item, signed_value(read, maximise),
          region};
}

Objective channel_objective(const model::Tap& tap, int64_t unit, int64_t item, bool maximise) {
  auto read = [tap, unit](const torch::Tensor& a) {
    check_spatial(tap, a);
    if (unit < 0 || unit >= a.size(1)) {
      throw Error("channel " + std::to_string(unit) + " outside " + tap.str() + " (" + std::to_string(a.size(1)) +
                  " channels)");
    }
    return a.select(1, unit).mean({1, 2});
  };
  return {(maximise ? "max channel " : "min channel ") + tap.str() + ":" + std::to_string(unit), tap, item,
          signed_value(read, maximise), {}};  // averages over every position
}

Objective direction_objective(const model::Tap& tap, const torch::Tensor& direction, int64_t item, bool maximise) {
  feature::Feature f;
  f.spec = "direction at " + tap.str();
  f.layer = tap.layer;
  f.direction = direction.flatten().to(torch::kFloat);
  auto read = [tap, f](const torch::Tensor& a) {
    check_spatial(tap, a);
    // Every position as a sample of read_feature's [N, C] form.
    auto h = a.permute({0, 2, 3, 1}).reshape({-1, a.size(1)});
    return feature::read_feature(f, h).view({a.size(0), -1}).mean(1);
  };
  return {(maximise ? "max " : "min ") + f.spec, tap, item, signed_value(read, maximise), {}};  // every position
}

Objective dot_cos_objective(const model::Tap& tap, const torch::Tensor& target, const model::Box& box, int cos_power,
                            int64_t item) {
  if (cos_power < 0) throw Error("the cosine power must be >= 0");
  feature::Feature f;
  f.spec = "dot*cos^" + std::to_string(cos_power) + " at " + tap.str();
  f.layer = tap.layer;
  f.direction = target.flatten().to(torch::kFloat);
  f.cos_power = cos_power;
  const auto shape = target.sizes().vec();
  auto read = [tap, f, shape](const torch::Tensor& h) {
    if (h.sizes().slice(1) != c10::IntArrayRef(shape)) {
      throw Error("target of shape " + c10::str(c10::IntArrayRef(shape)) + " does not fit " + tap.str() +
                  " cropped to its footprint: " + c10::str(h.sizes().slice(1)));
    }
    // read_feature's dot * cos^p of a [N, D] vector with the direction is eq. 5 on the flattened crop.
    return feature::read_feature(f, h.reshape({h.size(0), -1}));
  };
  auto region = [box](const torch::Tensor& a) { return a.dim() == 4 ? box : model::Box{}; };
  return {f.spec, tap, item, read, region};
}

}  // namespace tension::viz
