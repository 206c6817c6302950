#include "tension/viz/attribution_target.h"

#include "tension/core/error.h"

namespace tension::viz {

Target parse_target(const std::string& s) {
  if (s == "s+") return Target::SPos;
  if (s == "s-") return Target::SNeg;
  if (s == "abs") return Target::Abs;
  if (s == "max") return Target::Max;
  if (s == "min") return Target::Min;
  throw Error("unknown target '" + s + "' (use s+, s-, abs, max or min)");
}

std::string target_name(Target t) {
  switch (t) {
    case Target::SPos: return "s+";
    case Target::SNeg: return "s-";
    case Target::Abs: return "abs";
    case Target::Max: return "max";
    case Target::Min: return "min";
  }
  return "?";
}

bool needs_attribution(Target t) { return t == Target::SPos || t == Target::SNeg || t == Target::Abs; }

std::vector<Attribution> attributions_per_feature(attribution::Attributor& a, const torch::Tensor& x, size_t layer) {
  const auto& opt = a.options();
  if (!opt.keep_s) throw Error("the attributor must keep S (AttributorOptions::keep_s) for visualisation targets");
  if (layer >= opt.layers.size()) throw Error("attribution layer index out of range");
  if (opt.layers[layer] == attribution::kInputLayer) {
    throw Error("the pixels cannot be a visualisation target: name a layer inside the model");
  }
  if (x.dim() != 4 || x.size(0) != static_cast<int64_t>(opt.features.size())) {
    throw Error("one image per feature is needed: " + std::to_string(opt.features.size()) + " features, images " +
                c10::str(x.sizes()));
  }
  auto res = a.attribute(x);
  std::vector<Attribution> out;
  for (size_t k = 0; k < res.size(); ++k) {
    const auto& la = res[k].layers[layer];
    Attribution at;
    at.tap = model::parse_tap(opt.layers[layer]);
    at.footprint = la.footprint;
    at.s = la.s[static_cast<int64_t>(k)].cpu();
    at.fv = res[k].fv[static_cast<int64_t>(k)].item<double>();
    out.push_back(std::move(at));
  }
  return out;
}

torch::Tensor attribution_target(const torch::Tensor& s, Target t) {
  switch (t) {
    case Target::SPos: return torch::relu(s);
    case Target::SNeg: return torch::relu(-s);
    case Target::Abs: return s.abs();
    default: throw Error("target " + target_name(t) + " is not an attribution target");
  }
}

Objective target_objective(const model::Model& m, const feature::Feature& f, Target t, const Attribution* attr,
                           int cos_power, int64_t item) {
  if (!needs_attribution(t)) return feature_objective(m, f, item, t == Target::Max);
  if (attr == nullptr) throw Error("target " + target_name(t) + " needs an attribution (an image and a layer)");
  auto target = attribution_target(attr->s, t).to(m.device());
  auto o = dot_cos_objective(attr->tap, target, attr->footprint, cos_power, item);
  o.name = target_name(t) + " of " + f.spec + " at " + attr->tap.str();
  return o;
}

}  // namespace tension::viz
