#include "tension/viz/render.h"

#include <algorithm>
#include <optional>

#include "tension/core/error.h"
#include "tension/core/progress.h"
#include "tension/data/preprocess.h"

namespace tension::viz {

namespace {

size_t tap_slot(std::vector<model::Tap>& taps, const model::Tap& t) {
  auto it = std::find(taps.begin(), taps.end(), t);
  if (it != taps.end()) return static_cast<size_t>(it - taps.begin());
  taps.push_back(t);
  return taps.size() - 1;
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
  auto x = data::to_model_range(resize_to_input(images, m.input_spec()), m.input_spec());
  auto acts = m.run(x.to(m.device()), taps, {}).taps;
  std::vector<torch::Tensor> out;
  for (size_t b = 0; b < features.size(); ++b) {
    out.push_back(feature::read_feature(features[b], acts[slot[b]].narrow(0, static_cast<int64_t>(b), 1)).squeeze(0));
  }
  return torch::stack(out).cpu();
}

Evaluation evaluate(model::Model& m, const torch::Tensor& images, Transforms& transforms,
                    const std::vector<Objective>& objectives) {
  if (objectives.empty()) throw Error("nothing to optimise: no objective");
  const int64_t batch = images.size(0), draws = transforms.options().count();
  std::vector<model::Tap> taps;
  std::vector<size_t> slot;
  for (const auto& o : objectives) {
    if (o.item < 0 || o.item >= batch) {
      throw Error("objective '" + o.name + "' drives item " + std::to_string(o.item) + " of a batch of " +
                  std::to_string(batch));
    }
    slot.push_back(tap_slot(taps, o.tap));
  }
  torch::AutoGradMode grad_mode(true);
  auto leaf = images.detach().requires_grad_(true);
  auto x = transforms(leaf);
  model::RunOptions ro;
  ro.differentiable = true;
  auto run = m.run(x, taps, ro);
  std::vector<torch::Tensor> item_loss(batch);
  for (size_t k = 0; k < objectives.size(); ++k) {
    const auto& o = objectives[k];
    auto l = -o.value(of_item(run.taps[slot[k]], draws, batch, o.item)).mean();
    item_loss[o.item] = item_loss[o.item].defined() ? item_loss[o.item] + l : l;
  }
  for (auto& l : item_loss) {
    if (!l.defined()) l = torch::zeros({}, images.options());
  }
  auto loss = torch::stack(item_loss);
  // The model's graph starts at its own input leaf: differentiate to it, then carry the gradient back through
  // the transformations to the images.
  auto g_input = torch::autograd::grad({loss.sum()}, {run.input})[0];
  auto g_images = torch::autograd::grad({x}, {leaf}, {g_input})[0];
  return {loss.detach(), g_images};
}

// Eq. 4: Adam on the parameterisation's tensors, the objectives read through random transformations.
RenderResult render(model::Model& m, Parameterization& param, const std::vector<Objective>& objectives,
                    const RenderOptions& opt) {
  if (opt.steps() < 1) throw Error("at least one optimisation step is needed");
  torch::optim::Adam adam(param.parameters(), torch::optim::AdamOptions(opt.lr()));
  Transforms transforms(opt.transforms(), m.input_spec(), opt.seed(), m.device());

  RenderResult res;
  torch::Tensor images, grad_sum;
  std::optional<Progress> progress;
  if (opt.progress()) progress.emplace("render", static_cast<size_t>(opt.steps()), "step");
  for (int64_t step = 0; step < opt.steps(); ++step) {
    adam.zero_grad();
    images = param.render();
    auto ev = evaluate(m, images, transforms, objectives);
    images.backward(ev.grad);
    grad_sum = grad_sum.defined() ? grad_sum + ev.grad.abs() : ev.grad.abs();
    StepRecord rec{step, ev.loss.cpu(), {}};
    if (!opt.monitor().empty()) rec.fv = feature_values(m, images.detach(), opt.monitor());
    res.curve.push_back(std::move(rec));
    if (step + 1 < opt.steps()) adam.step();
    if (progress) progress->advance();
  }
  if (progress) progress->finish();
  res.images = images.detach().cpu();
  res.gradients = grad_sum.cpu();
  return res;
}

}  // namespace tension::viz
