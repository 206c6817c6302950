#include "tension/model/zoo/model.h"

#include <algorithm>

#include "tension/core/error.h"
#include "tension/core/sha256.h"
#include "tension/model/zoo/state_dict.h"

namespace tension::model {

NativeZooModel::NativeZooModel(std::string name, std::shared_ptr<ZooNet> net, const ZooOptions& opt)
    : name_(std::move(name)), net_(std::move(net)) {
  for (const auto& l : net_->layers()) layer_names_.push_back(l.name);
  if (opt.weights.empty()) {
    weights_id_ = "random-init:" + std::to_string(opt.seed);
  } else {
    load_state_dict(*net_, opt.weights, name_);
    weights_id_ = sha256_file(opt.weights);
  }
  for (auto& p : net_->parameters()) p.requires_grad_(false);
  net_->eval();
}

RunResult NativeZooModel::run(const torch::Tensor& x, const std::vector<Tap>& taps, const RunOptions& opt) {
  check_input(name_, input_spec(), x);
  for (const auto& t : taps) check_layer_exists(name_, t.layer, layer_names_);
  torch::AutoGradMode grad_mode(opt.differentiable);
  RunResult r;
  r.input = x.to(device_);
  // A fresh leaf, so that gradients w.r.t. the input (or any tap) never flow into the caller's graph.
  if (opt.differentiable) r.input = r.input.detach().requires_grad_(true);
  TapRecorder rec(taps, opt.want_output);
  torch::Tensor out = net_->forward(r.input, rec);
  if (opt.want_output) r.output = out;
  r.taps = rec.taps();
  return r;
}

RunResult NativeZooModel::run_from(const Tap& source, const torch::Tensor& h, const std::vector<Tap>& taps,
                                   const RunOptions& opt) {
  check_layer_exists(name_, source.layer, layer_names_);
  // Execution order: a layer's input, then its output. Every tap must come after the source.
  auto order = [&](const Tap& t) {
    auto it = std::find(layer_names_.begin(), layer_names_.end(), t.layer);
    return 2 * (it - layer_names_.begin()) + (t.side == TapSide::Output ? 1 : 0);
  };
  for (const auto& t : taps) {
    check_layer_exists(name_, t.layer, layer_names_);
    if (order(t) <= order(source)) {
      throw Error("tap " + t.str() + " of model " + name_ + " does not come after " + source.str() +
                  ", where the run starts");
    }
  }
  torch::AutoGradMode grad_mode(opt.differentiable);
  RunResult r;
  r.input = h.to(device_);
  if (opt.differentiable) r.input = r.input.detach().requires_grad_(true);
  TapRecorder rec(taps, opt.want_output);
  auto out = net_->forward_from(source, r.input, rec);
  if (!out) return Model::run_from(source, h, taps, opt);
  if (opt.want_output) r.output = *out;
  r.taps = rec.taps();
  return r;
}

void NativeZooModel::to(torch::Device device) {
  net_->to(device);
  device_ = device;
}

void NativeZooModel::save_weights(const std::string& path) { save_state_dict(*net_, path); }

std::vector<std::pair<std::string, torch::Tensor>> NativeZooModel::named_parameters() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : net_->named_parameters()) out.emplace_back(p.key(), p.value());
  return out;
}

}  // namespace tension::model
