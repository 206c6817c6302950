#include "tension/model/torchscript/model.h"

#include <torch/script.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "tension/core/error.h"
#include "tension/core/sha256.h"
#include "tension/model/torchscript/graph_taps.h"

namespace tension::model {

namespace {

// The line of a torch error message that says what went wrong: TorchScript puts a traceback before it.
std::string essential_line(const std::string& message, bool last) {
  std::istringstream in(message);
  std::string line, kept;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    kept = line;
    if (!last) break;
  }
  return kept;
}

// "LAYER#K" names the K-th call (0-based) of a layer that forward calls several times; "LAYER" the first.
std::pair<std::string, size_t> split_call_index(const std::string& layer) {
  auto hash = layer.rfind('#');
  if (hash == std::string::npos) return {layer, 0};
  const std::string digits = layer.substr(hash + 1);
  if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) {
    throw Error("bad call index in layer '" + layer + "': write LAYER#K, K = 0, 1, ...");
  }
  return {layer.substr(0, hash), std::stoul(digits)};
}

class TorchScriptModel : public Model {
 public:
  TorchScriptModel(const std::string& path, torch::jit::Module module, const InputSpec& spec);

  const std::string& name() const override { return name_; }
  const InputSpec& input_spec() const override { return spec_; }
  const std::vector<LayerInfo>& layers() const override { return layers_; }
  RunResult run(const torch::Tensor& x, const std::vector<Tap>& taps, const RunOptions& opt) override;
  RunResult run_from(const Tap& source, const torch::Tensor& h, const std::vector<Tap>& taps,
                     const RunOptions& opt) override;
  void to(torch::Device device) override;
  torch::Device device() const override { return device_; }
  std::string weights_id() const override { return weights_id_; }
  std::vector<std::pair<std::string, torch::Tensor>> named_parameters() const override {
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (const auto& p : module_.named_parameters()) out.emplace_back(p.name, p.value);
    return out;
  }

 private:
  GraphTap resolve(const Tap& tap) const;
  std::vector<GraphTap> distinct_taps(const std::vector<Tap>& taps, std::vector<size_t>& slot) const;
  torch::jit::Function& tapped_forward(const std::vector<GraphTap>& taps, bool want_output,
                                       const std::optional<GraphTap>& feed);
  RunResult execute(torch::jit::Function& fn, const torch::Tensor& input, const std::vector<size_t>& slot,
                    const RunOptions& opt);
  torch::Tensor output_tensor(const c10::IValue& out) const;

  std::string name_;
  torch::jit::Module module_;
  InputSpec spec_;
  std::vector<LayerInfo> layers_;
  std::vector<std::string> layer_names_;
  std::unordered_map<std::string, std::vector<size_t>> calls_of_;  // layer -> its calls, indices into module_calls()
  std::unordered_set<std::string> modules_;                        // every named_modules() path
  torch::Device device_ = torch::kCPU;
  std::string weights_id_;
  std::map<std::string, std::shared_ptr<torch::jit::Function>> cache_;  // by (taps, want_output)
};

TorchScriptModel::TorchScriptModel(const std::string& path, torch::jit::Module module, const InputSpec& spec)
    : name_(std::filesystem::path(path).filename().string()), module_(std::move(module)), spec_(spec) {
  spec_.fixed_size = false;
  module_.eval();
  for (torch::Tensor p : module_.parameters()) p.set_requires_grad(false);

  auto forward = module_.find_method("forward");
  if (!forward) throw Error("model " + name_ + " has no forward method");
  if (forward->function().getSchema().arguments().size() != 2) {
    throw Error("model " + name_ + ": forward must take exactly one argument, the image batch");
  }

  std::vector<ModuleCall> calls = module_calls(module_);
  for (size_t i = 0; i < calls.size(); ++i) {
    auto& of = calls_of_[calls[i].path];
    if (of.empty()) {
      layers_.push_back({calls[i].path, calls[i].kind});
      layer_names_.push_back(calls[i].path);
    }
    of.push_back(i);
  }
  if (layers_.empty()) {
    throw Error("model " + name_ + " has no submodule calls to tap; frozen models (torch.jit.freeze, "
                "optimize_for_inference) lose their layers: save the model before freezing it");
  }
  for (const auto& m : module_.named_modules()) modules_.insert(m.name);
  weights_id_ = sha256_file(path);
}

GraphTap TorchScriptModel::resolve(const Tap& tap) const {
  auto [layer, k] = split_call_index(tap.layer);
  if (!calls_of_.count(layer) && modules_.count(layer)) {
    throw Error("layer '" + layer + "' of model " + name_ + " is never called by forward, so it cannot be tapped");
  }
  check_layer_exists(name_, layer, layer_names_);
  const std::vector<size_t>& calls = calls_of_.at(layer);
  if (k >= calls.size()) {
    throw Error("layer '" + layer + "' of model " + name_ + " is called " + std::to_string(calls.size()) +
                " time(s) by forward, so '" + tap.layer + "' does not exist");
  }
  return {calls[k], tap.side == TapSide::Input};
}

torch::jit::Function& TorchScriptModel::tapped_forward(const std::vector<GraphTap>& taps, bool want_output,
                                                      const std::optional<GraphTap>& feed) {
  auto code = [](const GraphTap& t) { return std::to_string(t.call) + (t.input ? "i" : "o"); };
  std::string key = want_output ? "out" : "-";
  if (feed) key += " from " + code(*feed) + ":";
  for (const GraphTap& t : taps) key += " " + code(t);
  auto& fn = cache_[key];
  if (!fn) fn = build_tapped_forward(module_, taps, want_output, feed);
  return *fn;
}

torch::Tensor TorchScriptModel::output_tensor(const c10::IValue& out) const {
  if (out.isTensor()) return out.toTensor();
  // e.g. scripted GoogLeNet returns GoogLeNetOutputs(logits, aux_logits2, aux_logits1)
  if (out.isTuple()) {
    const auto& elements = out.toTupleRef().elements();
    if (!elements.empty() && elements[0].isTensor()) return elements[0].toTensor();
  }
  throw Error("the output of model " + name_ + " is a " + out.type()->repr_str() + ", not a tensor");
}

std::vector<GraphTap> TorchScriptModel::distinct_taps(const std::vector<Tap>& taps, std::vector<size_t>& slot) const {
  std::vector<GraphTap> distinct;
  for (const Tap& tap : taps) {
    GraphTap g = resolve(tap);
    auto same = std::find_if(distinct.begin(), distinct.end(),
                             [&](const GraphTap& d) { return d.call == g.call && d.input == g.input; });
    slot.push_back(same - distinct.begin());
    if (same == distinct.end()) distinct.push_back(g);
  }
  return distinct;
}

RunResult TorchScriptModel::execute(torch::jit::Function& fn, const torch::Tensor& input,
                                    const std::vector<size_t>& slot, const RunOptions& opt) {
  RunResult result;
  result.input = input.to(device_);
  if (opt.differentiable) result.input = result.input.detach().requires_grad_(true);
  torch::jit::Stack stack{module_._ivalue(), result.input};
  {
    std::optional<torch::NoGradGuard> no_grad;
    if (!opt.differentiable) no_grad.emplace();
    auto fail = [&](const std::string& why) {
      return Error("model " + name_ + " failed on an input of shape " + c10::str(input.sizes()) + ": " +
                   essential_line(why, true));
    };
    try {
      fn.run(stack);
    } catch (const c10::Error& e) {
      throw fail(e.what_without_backtrace());
    } catch (const std::runtime_error& e) {
      throw fail(e.what());
    }
  }
  const auto& outputs = stack.back().toTupleRef().elements();
  size_t first_tap = 0;
  if (opt.want_output) result.output = output_tensor(outputs[first_tap++]);
  for (size_t s : slot) result.taps.push_back(outputs[first_tap + s].toTensor());
  return result;
}

RunResult TorchScriptModel::run(const torch::Tensor& x, const std::vector<Tap>& taps, const RunOptions& opt) {
  check_input(name_, spec_, x);
  // Each distinct tap is computed once; slot[i] is where taps[i] is in the function's outputs.
  std::vector<size_t> slot;
  auto distinct = distinct_taps(taps, slot);
  return execute(tapped_forward(distinct, opt.want_output, std::nullopt), x, slot, opt);
}

RunResult TorchScriptModel::run_from(const Tap& source, const torch::Tensor& h, const std::vector<Tap>& taps,
                                     const RunOptions& opt) {
  std::vector<size_t> slot;
  auto distinct = distinct_taps(taps, slot);
  return execute(tapped_forward(distinct, opt.want_output, resolve(source)), h, slot, opt);
}

void TorchScriptModel::to(torch::Device device) {
  module_.to(device);
  device_ = device;
}

}  // namespace

std::unique_ptr<Model> load_torchscript(const std::string& path, const InputSpec& input) {
  if (!std::filesystem::is_regular_file(path)) throw Error("TorchScript model file not found: " + path);
  torch::jit::Module module;
  try {
    module = torch::jit::load(path, torch::Device(torch::kCPU));
  } catch (const std::exception& e) {
    const c10::Error* ce = dynamic_cast<const c10::Error*>(&e);
    throw Error(path + " is not a TorchScript archive (save one with torch.jit.trace(...).save or "
                "torch.jit.script(...).save): " +
                essential_line(ce ? ce->what_without_backtrace() : e.what(), false));
  }
  return std::make_unique<TorchScriptModel>(path, std::move(module), input);
}

}  // namespace tension::model
