#pragma once
// The one interface every model frontend implements: run a batch, return the tensors at requested taps.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "tension/model/input_spec.h"
#include "tension/model/tap.h"

namespace tension::model {

struct RunOptions {
  // Also return the model's final output. When false the forward stops after the last requested tap.
  bool want_output = false;
  // Record autograd so that torch::autograd::grad of a later tap w.r.t. an earlier tap (or the input)
  // gives true gradients. Parameters never require grad. When false the forward runs under NoGradGuard.
  bool differentiable = false;
};

struct RunResult {
  torch::Tensor output;               // defined only when RunOptions::want_output
  std::vector<torch::Tensor> taps;    // in the order the taps were requested
  torch::Tensor input;                // the input as the graph saw it (requires grad when differentiable)
};

struct LayerInfo {
  std::string name;          // addressable name, e.g. "conv2", "mixed3b_pre_relu", "features.8"
  std::string kind;          // module type, e.g. "Conv2d", "ReLU", "Inception"
};

class Model {
 public:
  virtual ~Model() = default;

  virtual const std::string& name() const = 0;
  virtual const InputSpec& input_spec() const = 0;
  // Every addressable layer, in execution order. Each also has a ":in" tap.
  virtual const std::vector<LayerInfo>& layers() const = 0;

  // x: [N, C, H, W] already preprocessed to the model's input range. Throws tension::Error for an unknown
  // layer or an input the model cannot take (wrong rank, channels, or size for fixed-size models).
  virtual RunResult run(const torch::Tensor& x, const std::vector<Tap>& taps, const RunOptions& opt = {}) = 0;

  // Runs only the part of the network after `source`, on h in place of the value there (e.g. a window of that
  // layer, replicated once per feature). Taps must come after source; RunResult::input is h as the graph saw
  // it. Throws tension::Error where the model cannot be cut there (later layers also read earlier activations)
  // or the frontend has no such cut.
  virtual RunResult run_from(const Tap& source, const torch::Tensor& h, const std::vector<Tap>& taps,
                             const RunOptions& opt = {});

  virtual void to(torch::Device device) = 0;
  virtual torch::Device device() const = 0;

  // Every parameter by its dotted name (weight statistics, App. D). Frozen; on the model's device.
  virtual std::vector<std::pair<std::string, torch::Tensor>> named_parameters() const = 0;

  // Identifies the weights for the run manifest: the SHA-256 of the weights file, or "random-init:SEED".
  virtual std::string weights_id() const = 0;
};

// Checks x against spec (rank 4, channel count, size when fixed); throws tension::Error with both shapes.
void check_input(const std::string& model_name, const InputSpec& spec, const torch::Tensor& x);

}  // namespace tension::model
