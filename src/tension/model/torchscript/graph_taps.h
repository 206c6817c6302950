#pragma once
// Graph surgery on a TorchScript module's forward (docs/torchscript-taps.md): the submodule calls in
// execution order, and functions that also return the tensors at chosen calls. Only public torch headers here;
// the JIT internals stay in the .cpp.
#include <torch/script.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tension::model {

// One call of a submodule's forward, found in the fully inlined forward graph.
struct ModuleCall {
  std::string path;               // named_modules() path, e.g. "features.3", "layer1.0.bn2"
  std::string kind;               // the module's class name, e.g. "Conv2d", "Inception"
  bool in_control_flow = false;   // inside a prim::If or prim::Loop block: it may run any number of times
};

// Every submodule call of module.forward, in execution order (graph order after inlining; a module called
// twice appears twice). Modules that forward never calls do not appear.
std::vector<ModuleCall> module_calls(const torch::jit::Module& module);

// A tensor to return: the input (first argument) or the output of the call module_calls(module)[call].
struct GraphTap {
  size_t call = 0;
  bool input = false;
};

// forward(self, x) -> (model output if want_output, then one tensor per tap, in order), with in-place ops that
// would overwrite a tap made out-of-place or rerouted through a copy, so each tap holds its value at call time and
// lies on the autograd path. Without want_output everything after the last tap is cut off. Runs on the SIMPLE
// executor (the profiling one breaks gradients w.r.t. intermediates). Call it with Stack{module._ivalue(), x}.
// Throws tension::Error for a tap on a call inside control flow, a non-tensor tap, or a tap that a later
// in-place write through a view would corrupt.
// With `feed`, the function is forward(self, h) instead: h replaces the value at that tap and only the part of
// the graph after it runs (a "suffix", e.g. on a window of the layer replicated once per feature). Throws
// tension::Error when a tap comes before the fed one, or when the layers after it also read earlier
// activations (a skip connection, or a cut inside a block's parallel branches).
std::shared_ptr<torch::jit::Function> build_tapped_forward(const torch::jit::Module& module,
                                                           const std::vector<GraphTap>& taps,
                                                           bool want_output,
                                                           const std::optional<GraphTap>& feed = std::nullopt);

}  // namespace tension::model
