#include "tension/viz/panels.h"

#include <cmath>
#include <map>

#include <spdlog/spdlog.h>

#include "tension/core/error.h"

namespace tension::viz {

namespace {

OptimizeOptions recipe(int64_t steps, double lr, int64_t draws) {
  OptimizeOptions o;
  o.steps = steps;
  o.lr = lr;
  o.transforms.count = draws;
  return o;
}

}  // namespace

OptimizeOptions attribution_recipe() { return recipe(121, 0.02, 16); }

OptimizeOptions feature_recipe() { return recipe(101, 0.05, 8); }

int64_t default_canvas(const model::InputSpec& input) {
  return 2 * static_cast<int64_t>(std::lround(static_cast<double>(std::max(input.height, input.width)) * 256.0 / 224.0));
}

std::string panel_kind(const Panel& p) {
  if (!needs_attribution(p.target)) return p.seed.defined() ? "accentuation" : "visualisation";
  return p.seed.defined() ? "accentuation" : "inversion";
}

std::vector<PanelResult> optimize_panels(model::Model& m, const std::vector<Panel>& panels, const PanelOptions& opt) {
  // One batch per (start, recipe): seeded panels share a parameterisation of seeds, noise panels one of noise.
  std::map<std::pair<bool, bool>, std::vector<size_t>> groups;
  for (size_t i = 0; i < panels.size(); ++i) {
    const auto& p = panels[i];
    if (needs_attribution(p.target) && !p.attribution) {
      throw Error("panel " + target_name(p.target) + " of " + p.feature.spec + " needs an attribution");
    }
    groups[{p.seed.defined(), needs_attribution(p.target)}].push_back(i);
  }
  const int64_t channels = m.input_spec().channels;
  std::vector<PanelResult> out(panels.size());
  uint64_t batch_seed = opt.seed;
  for (const auto& [key, members] : groups) {
    const auto [seeded, attribution] = key;
    ImageOptions io{static_cast<int64_t>(members.size()), channels, opt.canvas};
    io.seed = batch_seed;
    io.device = m.device();
    if (seeded) {
      std::vector<torch::Tensor> seeds;
      for (size_t i : members) seeds.push_back(panels[i].seed);
      io.seed_images = torch::stack(seeds);
    }
    auto param = make_parameterization(opt.param, io, opt.spectrum);
    std::vector<Objective> objectives;
    std::vector<feature::Feature> monitor;
    for (size_t b = 0; b < members.size(); ++b) {
      const auto& p = panels[members[b]];
      const Attribution* a = p.attribution ? &*p.attribution : nullptr;
      objectives.push_back(target_objective(m, p.feature, p.target, a, opt.cos_power, static_cast<int64_t>(b)));
      monitor.push_back(p.feature);
    }
    auto ro = attribution ? opt.attribution_optimize : opt.feature_optimize;
    ro.seed = batch_seed;
    ro.monitor = monitor;
    spdlog::info("optimising {} {} panel(s) ({} steps, {} draws per step)", members.size(),
                 seeded ? "seeded" : "noise", ro.steps, ro.transforms.count);
    auto res = optimize(m, *param, objectives, ro);
    auto alpha = opacity(res.gradients, attribution ? opt.attribution_opacity : opt.feature_opacity);
    for (size_t b = 0; b < members.size(); ++b) {
      auto& r = out[members[b]];
      r.image = res.images[static_cast<int64_t>(b)];
      r.alpha = alpha[static_cast<int64_t>(b)];
      for (const auto& rec : res.curve) {
        r.loss.push_back(rec.loss[static_cast<int64_t>(b)].item<double>());
        r.fv.push_back(rec.fv[static_cast<int64_t>(b)].item<double>());
      }
    }
    batch_seed += 1000;
  }
  return out;
}

torch::Tensor display_image(const PanelResult& r) {
  auto img = r.image.to(torch::kFloat);
  auto lo = img.min(), hi = img.max();
  img = (img - lo) / (hi - lo).clamp_min(1e-8);
  if (img.size(0) == 1) img = img.expand({3, -1, -1});
  return torch::cat({img, r.alpha.to(torch::kFloat)}, 0);
}

}  // namespace tension::viz
