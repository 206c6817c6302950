#include "tension/feature/feature.h"

#include <algorithm>
#include <regex>

#include "tension/core/error.h"
#include "tension/core/npy.h"

namespace tension::feature {

namespace {

// A run of digits the spec's pattern matched, as an int64: too many digits is an error, not std::out_of_range.
int64_t spec_number(const std::string& digits, const std::string& spec) {
  if (digits.size() > 18) throw Error("feature '" + spec + "': the number " + digits + " is out of range");
  return std::stoll(digits);
}

}  // namespace

Feature parse_feature(const std::string& spec, int cos_power) {
  // std::regex matches recursively, a stack frame or more per character: a longer spec would overflow the stack.
  constexpr size_t kMaxSpec = 4096;
  if (spec.size() > kMaxSpec) {
    throw Error("feature spec of " + std::to_string(spec.size()) + " characters: at most " +
                std::to_string(kMaxSpec) + " are read");
  }
  static const std::regex re(R"(^(.+):(?:(\d+)|@([^#@]+)(?:#(\d+))?)(?:@(\d+),(\d+))?$)");
  std::smatch m;
  if (!std::regex_match(spec, m, re)) {
    throw Error("malformed feature '" + spec +
                "': use LAYER:UNIT, LAYER:UNIT@ROW,COL or LAYER:@FILE.npy#ROW (optionally @ROW,COL)");
  }
  Feature f;
  f.spec = spec;
  f.layer = m[1];
  f.cos_power = cos_power;
  if (cos_power < 0) throw Error("the cosine power must be >= 0");
  if (m[2].matched) {
    f.unit = spec_number(m[2], spec);
  } else {
    auto mat = read_npy(m[3]).to(torch::kFloat32);
    if (mat.dim() == 1) mat = mat.unsqueeze(0);
    if (mat.dim() != 2) throw Error(m[3].str() + ": directions must be a [K, C] matrix");
    int64_t k = m[4].matched ? spec_number(m[4], spec) : 0;
    if (k >= mat.size(0)) {
      throw Error(spec + ": row " + std::to_string(k) + " outside " + m[3].str() + " (" +
                  std::to_string(mat.size(0)) + " directions)");
    }
    f.direction = mat[k].clone();
  }
  if (m[5].matched) {
    f.row = spec_number(m[5], spec);
    f.col = spec_number(m[6], spec);
  }
  return f;
}

model::Tap feature_tap(const model::Model& m, const std::string& layer) {
  const auto& layers = m.layers();
  for (const auto& l : layers) {
    if (l.name == layer + "_pre_relu") return {l.name, model::TapSide::Output};
  }
  for (const auto& l : layers) {
    // Exactly a ReLU module: "mixed4a_pre_relu" (kind InceptionPreReLU) is itself the pre-activation.
    if (l.name == layer && l.kind == "ReLU") return {layer, model::TapSide::Input};
  }
  return {layer, model::TapSide::Output};
}

int64_t feature_channels(model::Model& m, const std::string& layer, uint64_t seed) {
  return m.run(model::random_inputs(m, {1, seed}), {feature_tap(m, layer)}, {}).taps[0].size(1);
}

std::vector<int64_t> random_units(int64_t channels, int64_t count, uint64_t seed) {
  auto perm = torch::randperm(channels, at::make_generator<at::CPUGeneratorImpl>(seed), torch::kLong);
  std::vector<int64_t> units;
  for (int64_t i = 0; i < std::min(channels, count); ++i) units.push_back(perm[i].item<int64_t>());
  std::sort(units.begin(), units.end());
  return units;
}

std::pair<int64_t, int64_t> feature_position(const Feature& f, const torch::Tensor& act) {
  int64_t h = act.size(2), w = act.size(3);
  int64_t r = f.row.value_or(h / 2), c = f.col.value_or(w / 2);
  if (r < 0 || r >= h || c < 0 || c >= w) {
    throw Error("feature " + f.spec + ": position @" + std::to_string(r) + "," + std::to_string(c) +
                " is outside the layer's " + std::to_string(h) + "x" + std::to_string(w) + " map");
  }
  return {r, c};
}

model::Box feature_box(const Feature& f, const torch::Tensor& act) {
  if (act.dim() != 4) return {};
  auto [r, c] = feature_position(f, act);
  return {r, c, r + 1, c + 1};
}

torch::Tensor read_feature(const Feature& f, const torch::Tensor& act) {
  torch::Tensor h;  // [N, C]
  if (act.dim() == 4) {
    auto [r, c] = feature_position(f, act);
    h = act.index({torch::indexing::Slice(), torch::indexing::Slice(), r, c});
  } else if (act.dim() == 2) {
    if (f.row) throw Error("feature " + f.spec + " names a position, but layer " + f.layer + " has none");
    h = act;
  } else {
    throw Error("feature " + f.spec + ": layer " + f.layer + " is neither [N, C, H, W] nor [N, C]");
  }
  const int64_t channels = h.size(1);
  if (f.unit >= 0) {
    if (f.unit >= channels) {
      throw Error("feature " + f.spec + ": unit " + std::to_string(f.unit) + " outside layer " + f.layer +
                  " (" + std::to_string(channels) + " channels)");
    }
    return h.select(1, f.unit);
  }
  if (f.direction.size(0) != channels) {
    throw Error("feature " + f.spec + ": direction has " + std::to_string(f.direction.size(0)) +
                " entries, layer " + f.layer + " has " + std::to_string(channels) + " channels");
  }
  return dot_cos(h, f.direction, f.cos_power);
}

torch::Tensor dot_cos(const torch::Tensor& h, const torch::Tensor& v, int p) {
  auto d = v.to(h.device(), h.scalar_type());
  auto dot = d.dim() == 1 ? h.matmul(d) : h.matmul(d.t());
  if (p == 0) return dot;
  auto norms = d.dim() == 1 ? d.norm() : d.norm(2, 1);
  // A zero hidden vector has no direction: the floor keeps its readout at 0 (dot = 0) instead of NaN.
  auto cos = dot / (h.norm(2, -1, d.dim() == 2) * norms).clamp_min(std::numeric_limits<float>::min());
  return dot * cos.pow(p);
}

}  // namespace tension::feature
