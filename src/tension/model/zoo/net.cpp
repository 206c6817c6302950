#include "tension/model/zoo/net.h"

namespace tension::model {

namespace {
// "torch::nn::Conv2dImpl" -> "Conv2d": the name Python users know the layer type by.
std::string module_kind(const torch::nn::Module& m) {
  std::string kind = m.name();
  auto colon = kind.rfind("::");
  if (colon != std::string::npos) kind = kind.substr(colon + 2);
  const std::string impl = "Impl";
  if (kind.size() > impl.size() && kind.compare(kind.size() - impl.size(), impl.size(), impl) == 0) {
    kind.resize(kind.size() - impl.size());
  }
  return kind;
}
}  // namespace

void ZooNet::add_layer(std::string name, std::string kind) { layers_.push_back({std::move(name), std::move(kind)}); }

void ZooNet::add_step(std::vector<NamedStep>& steps, std::string name, torch::nn::AnyModule module) {
  add_layer(name, module_kind(*module.ptr()));
  steps.push_back({std::move(name), std::move(module)});
}

std::vector<NamedStep> ZooNet::sequential_steps(torch::nn::Sequential& seq, const std::string& prefix) {
  std::vector<NamedStep> steps;
  size_t index = 0;
  for (auto& m : *seq) add_step(steps, prefix + "." + std::to_string(index++), m);
  return steps;
}

namespace {
torch::Tensor run_steps_at(std::vector<NamedStep>& steps, size_t first, torch::Tensor x, TapRecorder& rec) {
  for (size_t i = first; i < steps.size(); ++i) {
    if (rec.in(steps[i].name, x)) return {};
    x = steps[i].module.forward(x);
    rec.out(steps[i].name, x);
  }
  return rec.done() ? torch::Tensor() : x;
}
}  // namespace

torch::Tensor run_steps(std::vector<NamedStep>& steps, torch::Tensor x, TapRecorder& rec) {
  return run_steps_at(steps, 0, std::move(x), rec);
}

std::optional<torch::Tensor> run_steps_from(std::vector<NamedStep>& steps, const Tap& source, torch::Tensor x,
                                            TapRecorder& rec) {
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].name != source.layer) continue;
    // From a step's input, the step itself runs (and reports its input); from its output, the next one.
    return run_steps_at(steps, source.side == TapSide::Input ? i : i + 1, std::move(x), rec);
  }
  return std::nullopt;
}

}  // namespace tension::model
