#include "tension/model/input_range.h"

#include "tension/core/error.h"

namespace tension::model {

void check_input_spec(const InputSpec& spec) {
  if (spec.channels != 1 && spec.channels != 3)
    throw Error("model input spec: channels must be 1 or 3, got " + std::to_string(spec.channels));
  if (spec.height < 1 || spec.width < 1) throw Error("model input spec: height and width must be positive");
  if (spec.mean.size() != spec.std.size() || (!spec.mean.empty() && spec.mean.size() != size_t(spec.channels)))
    throw Error("model input spec: mean and std need one value per channel (" + std::to_string(spec.channels) + ")");
  for (double s : spec.std)
    if (s == 0.0) throw Error("model input spec: std must not be 0");
  if (spec.range_hi == spec.range_lo) throw Error("model input spec: the input range is empty");
}

namespace {

torch::Tensor per_channel(const std::vector<double>& v, const torch::Tensor& like) {
  return torch::tensor(v, torch::TensorOptions().dtype(torch::kDouble)).to(like.options()).view({-1, 1, 1});
}

}  // namespace

torch::Tensor to_model_range(const torch::Tensor& x, const InputSpec& spec) {
  check_input_spec(spec);
  if (x.dim() < 3 || x.size(-3) != spec.channels)
    throw Error("to_model_range: expected [.., " + std::to_string(spec.channels) + ", H, W], got " +
                c10::str(x.sizes()));
  torch::Tensor y = x * (spec.range_hi - spec.range_lo) + spec.range_lo;
  if (!spec.mean.empty()) y = (y - per_channel(spec.mean, y)) / per_channel(spec.std, y);
  return y;
}

torch::Tensor to_unit_range(const torch::Tensor& x, const InputSpec& spec) {
  check_input_spec(spec);
  if (x.dim() < 3 || x.size(-3) != spec.channels)
    throw Error("to_unit_range: expected [.., " + std::to_string(spec.channels) + ", H, W], got " +
                c10::str(x.sizes()));
  torch::Tensor y = x;
  if (!spec.mean.empty()) y = y * per_channel(spec.std, x) + per_channel(spec.mean, x);
  return (y - spec.range_lo) / (spec.range_hi - spec.range_lo);
}

}  // namespace tension::model
