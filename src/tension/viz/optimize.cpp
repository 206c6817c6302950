#include "tension/viz/optimize.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>

#include "tension/core/error.h"
#include "tension/core/progress.h"
#include "tension/model/input_range.h"
#include "tension/model/input_crop.h"

namespace tension::viz {

namespace {

size_t tap_slot(std::vector<model::Tap>& taps, const model::Tap& t) {
  auto it = std::find(taps.begin(), taps.end(), t);
  if (it != taps.end()) return static_cast<size_t>(it - taps.begin());
  taps.push_back(t);
  return taps.size() - 1;
}

std::vector<size_t> objective_slots(std::vector<model::Tap>& taps, const std::vector<Objective>& objectives) {
  std::vector<size_t> slot;
  for (const auto& o : objectives) slot.push_back(tap_slot(taps, o.tap));
  return slot;
}

// What objective k reads of its tap's activation `act` in a run planned by `plan`.
torch::Tensor planned_input(const Objective& o, const torch::Tensor& act, const ObjectivePlan& plan, size_t k) {
  return plan.input.height() == 0 ? objective_input(o, act) : model::crop_to(act, plan.regions[k]);
}

// Rows t * batch + item of a draw-major [draws * batch, ...] activation: [draws, ...].
torch::Tensor of_item(const torch::Tensor& act, int64_t draws, int64_t batch, int64_t item) {
  auto shape = act.sizes().vec();
  shape[0] = batch;
  shape.insert(shape.begin(), draws);
  return act.reshape(shape).select(1, item);
}

}  // namespace

torch::Tensor feature_values(model::Model& m, const torch::Tensor& images, const std::vector<feature::Feature>& features) {
  if (static_cast<int64_t>(features.size()) != images.size(0)) {
    throw Error("one monitored feature per image is needed: " + std::to_string(features.size()) + " for " +
                std::to_string(images.size(0)) + " images");
  }
  std::vector<model::Tap> taps;
  std::vector<size_t> slot;
  for (const auto& f : features) slot.push_back(tap_slot(taps, feature::feature_tap(m, f.layer)));
  auto x = model::to_model_range(resize_to_input(images, m.input_spec()), m.input_spec());
  auto acts = m.run(x.to(m.device()), taps, {}).taps;
  std::vector<torch::Tensor> out;
  for (size_t b = 0; b < features.size(); ++b) {
    out.push_back(feature::read_feature(features[b], acts[slot[b]].narrow(0, static_cast<int64_t>(b), 1)).squeeze(0));
  }
  return torch::stack(out).cpu();
}

ObjectivePlan plan_objectives(model::Model& m, const std::vector<Objective>& objectives, bool crop_input,
                              uint64_t seed) {
  ObjectivePlan none;
  if (!crop_input || objectives.empty()) return none;
  std::vector<model::Tap> taps;
  auto slot = objective_slots(taps, objectives);
  std::vector<model::CropNeed> needs;
  for (size_t k = 0; k < objectives.size(); ++k) {
    if (!objectives[k].region) return none;  // reads the whole layer
    needs.push_back({slot[k], objectives[k].region});
  }
  model::InputCropOptions co;
  co.field.seed = seed;
  auto crop = model::plan_input_crop(m, taps, needs, co);
  if (crop.box.height() == 0) return none;
  ObjectivePlan plan{crop.box, {}};
  for (size_t k = 0; k < objectives.size(); ++k) plan.regions.push_back(crop.shift(slot[k], crop.needed[k]));
  // Exact or not at all: every objective's values on random inputs, cropped against whole.
  auto x = model::random_inputs(m, {2, seed + 1});
  try {
    auto full = m.run(x, taps, {}).taps;
    auto part = m.run(model::crop_to(x, plan.input), taps, {}).taps;
    for (size_t k = 0; k < objectives.size(); ++k) {
      auto want = objectives[k].value(planned_input(objectives[k], full[slot[k]], none, k));
      auto got = objectives[k].value(planned_input(objectives[k], part[slot[k]], plan, k));
      double scale = std::max(want.abs().max().item<double>(), 1e-12);
      if (got.sizes() != want.sizes() || (got - want).abs().max().item<double>() > 1e-4 * scale) {
        spdlog::warn("input crop disabled: the cropped forward pass differs from the full one");
        return none;
      }
    }
  } catch (const Error& e) {
    spdlog::warn("input crop disabled: {}", e.what());
    return none;
  }
  return plan;
}

Evaluation evaluate(model::Model& m, const torch::Tensor& images, Transforms& transforms,
                    const std::vector<Objective>& objectives, const ObjectivePlan& plan) {
  if (objectives.empty()) throw Error("nothing to optimise: no objective");
  const int64_t batch = images.size(0), draws = transforms.options().count;
  for (const auto& o : objectives) {
    if (o.item < 0 || o.item >= batch) {
      throw Error("objective '" + o.name + "' drives item " + std::to_string(o.item) + " of a batch of " +
                  std::to_string(batch));
    }
  }
  std::vector<model::Tap> taps;
  auto slot = objective_slots(taps, objectives);
  torch::AutoGradMode grad_mode(true);
  auto leaf = images.detach().requires_grad_(true);
  auto x = model::crop_to(transforms(leaf), plan.input);
  model::RunOptions ro;
  ro.differentiable = true;
  auto run = m.run(x, taps, ro);
  std::vector<torch::Tensor> item_loss(batch);
  for (size_t k = 0; k < objectives.size(); ++k) {
    const auto& o = objectives[k];
    auto l = -o.value(planned_input(o, of_item(run.taps[slot[k]], draws, batch, o.item), plan, k)).mean();
    item_loss[o.item] = item_loss[o.item].defined() ? item_loss[o.item] + l : l;
  }
  for (auto& l : item_loss) {
    if (!l.defined()) l = torch::zeros({}, images.options());
  }
  auto loss = torch::stack(item_loss);
  // The model's graph starts at its own input leaf: differentiate to it, then carry the gradient back through
  // the crop and the transformations to the images.
  auto g_input = torch::autograd::grad({loss.sum()}, {run.input})[0];
  auto g_images = torch::autograd::grad({x}, {leaf}, {g_input})[0];
  return {loss.detach(), g_images};
}

// Eq. 4: Adam on the parameterisation's tensors, the objectives read through random transformations.
OptimizeResult optimize(model::Model& m, Parameterization& param, const std::vector<Objective>& objectives,
                        const OptimizeOptions& opt) {
  if (opt.steps < 1) throw Error("at least one optimisation step is needed");
  torch::optim::Adam adam(param.parameters(), torch::optim::AdamOptions(opt.lr));
  Transforms transforms(opt.transforms, m.input_spec(), opt.seed, m.device());
  const auto plan = plan_objectives(m, objectives, opt.crop_input, opt.seed);

  OptimizeResult res;
  torch::Tensor images, grad_sum;
  std::optional<Progress> progress;
  if (opt.progress) progress.emplace("optimize", static_cast<size_t>(opt.steps), "step");
  for (int64_t step = 0; step < opt.steps; ++step) {
    adam.zero_grad();
    images = param.render();
    auto ev = evaluate(m, images, transforms, objectives, plan);
    images.backward(ev.grad);
    grad_sum = grad_sum.defined() ? grad_sum + ev.grad.abs() : ev.grad.abs();
    StepRecord rec{step, ev.loss.cpu(), {}};
    if (!opt.monitor.empty()) rec.fv = feature_values(m, images.detach(), opt.monitor);
    res.curve.push_back(std::move(rec));
    if (step + 1 < opt.steps) adam.step();
    if (progress) progress->advance();
  }
  if (progress) progress->finish();
  res.images = images.detach().cpu();
  res.gradients = grad_sum.cpu();
  return res;
}

}  // namespace tension::viz
