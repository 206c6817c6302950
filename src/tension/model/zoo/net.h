#pragma once
// The base of every native zoo network: a torch::nn::Module whose forward reports each layer's input and
// output to a TapRecorder, and that lists its layers in execution order.
#include <torch/torch.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tension/model/model.h"
#include "tension/model/zoo/recorder.h"

namespace tension::model {

// One layer of a chain: an addressable name and the module that computes it.
struct NamedStep {
  std::string name;
  torch::nn::AnyModule module;
};

class ZooNet : public torch::nn::Module {
 public:
  explicit ZooNet(InputSpec input) : input_(std::move(input)) {}

  const InputSpec& input_spec() const { return input_; }
  // Every addressable layer, in the order the forward computes its output.
  const std::vector<LayerInfo>& layers() const { return layers_; }

  // Runs x through the network, reporting every listed layer to rec, and returns the model output; once
  // rec.done() the rest is skipped and an undefined tensor comes back. x may be undefined when rec is done.
  virtual torch::Tensor forward(const torch::Tensor& x, TapRecorder& rec) = 0;
  // The same from `source` on, h in place of its value; nullopt where the network cannot be cut there (only a
  // chain of steps can: nothing after a step reads what came before it).
  virtual std::optional<torch::Tensor> forward_from(const Tap&, const torch::Tensor&, TapRecorder&) {
    return std::nullopt;
  }

 protected:
  void add_layer(std::string name, std::string kind);
  // Lists `module` as layer `name` (its kind is the module's type, e.g. "Conv2d") and appends it to steps.
  // The caller registers the module, which fixes its parameters' key names.
  void add_step(std::vector<NamedStep>& steps, std::string name, torch::nn::AnyModule module);
  // Registers module under `name` (its parameters become "name.weight", ...) and appends it to steps.
  template <typename Holder>
  void add_registered_step(std::vector<NamedStep>& steps, const std::string& name, Holder module) {
    add_step(steps, name, torch::nn::AnyModule(register_module(name, module)));
  }
  // Lists every module of seq as layer "prefix.INDEX" (torchvision's named_modules paths) and returns them.
  std::vector<NamedStep> sequential_steps(torch::nn::Sequential& seq, const std::string& prefix);

 private:
  InputSpec input_;
  std::vector<LayerInfo> layers_;
};

// Runs the chain, reporting each step's input and output; undefined once rec.done().
torch::Tensor run_steps(std::vector<NamedStep>& steps, torch::Tensor x, TapRecorder& rec);
// The chain from `source` (a step's input or output) on, x in place of its value; nullopt when no step of the
// chain is the source.
std::optional<torch::Tensor> run_steps_from(std::vector<NamedStep>& steps, const Tap& source, torch::Tensor x,
                                            TapRecorder& rec);

// The native networks, one file each (zoo/<net>.cpp); zoo/zoo.cpp gives them their model names.
std::shared_ptr<ZooNet> make_fmnist_cnn(bool batchnorm);
std::shared_ptr<ZooNet> make_toy_mlp(bool bias);
// hidden and classes narrow torchvision's classifier (4096, 1000), as torchvision's own arguments can.
std::shared_ptr<ZooNet> make_vgg11(bool batchnorm, int64_t hidden = 4096, int64_t classes = 1000);
std::shared_ptr<ZooNet> make_inception_v1();

}  // namespace tension::model
