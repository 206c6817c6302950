#include "tension/model/zoo/model.h"

#include <algorithm>
#include <functional>
#include <optional>

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

namespace {

// One forward from x (the input, or a layer's value) with the taps recorded; `forward` runs the network from
// there and gives nullopt where it cannot start.
using Forward = std::function<std::optional<torch::Tensor>(const torch::Tensor&, TapRecorder&)>;
std::optional<RunResult> record_run(const torch::Tensor& x, torch::Device device, const std::vector<Tap>& taps,
                                    const RunOptions& opt, const Forward& forward) {
  torch::AutoGradMode grad_mode(opt.differentiable);
  RunResult r;
  r.input = x.to(device);
  // A fresh leaf, so that gradients w.r.t. the input (or any tap) never flow into the caller's graph.
  if (opt.differentiable) r.input = r.input.detach().requires_grad_(true);
  TapRecorder rec(taps, opt.want_output);
  auto out = forward(r.input, rec);
  if (!out) return std::nullopt;
  if (opt.want_output) r.output = *out;
  r.taps = rec.taps();
  return r;
}

}  // namespace

RunResult NativeZooModel::run(const torch::Tensor& x, const std::vector<Tap>& taps, const RunOptions& opt) {
  check_input(name_, input_spec(), x);
  for (const auto& t : taps) check_layer_exists(name_, t.layer, layer_names_);
  return *record_run(x, device_, taps, opt, [&](const torch::Tensor& in, TapRecorder& rec) {
    return std::optional<torch::Tensor>(net_->forward(in, rec));
  });
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
  auto r = record_run(h, device_, taps, opt, [&](const torch::Tensor& in, TapRecorder& rec) {
    return net_->forward_from(source, in, rec);
  });
  return r ? *r : Model::run_from(source, h, taps, opt);
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
