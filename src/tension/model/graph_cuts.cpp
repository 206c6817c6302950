#include "tension/model/graph_cuts.h"

#include <unordered_map>
#include <unordered_set>

#include "tension/core/error.h"
#include "tension/model/receptive_field.h"

namespace tension::model {

namespace {

using torch::autograd::Node;

bool named(const Node* n, const char* what) { return n && n->name().find(what) != std::string::npos; }

// The autograd node that produced a tapped value. The TorchScript frontend returns a tap as a clone of the
// value (kept intact against later in-place ops); the value itself is the clone's input.
Node* node_of(const torch::Tensor& t) {
  Node* n = t.grad_fn().get();
  while (named(n, "CloneBackward") && !n->next_edges().empty()) n = n->next_edges()[0].function.get();
  return n;
}

// Every node `from` depends on, itself included, never entering `avoid`.
std::unordered_set<Node*> ancestors(Node* from, const Node* avoid = nullptr) {
  std::unordered_set<Node*> seen;
  std::vector<Node*> stack;
  if (from && from != avoid) stack.push_back(from);
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    if (!seen.insert(n).second) continue;
    for (const auto& e : n->next_edges()) {
      Node* m = e.function.get();
      if (m && m != avoid && !seen.count(m)) stack.push_back(m);
    }
  }
  return seen;
}

// The input is the one leaf that requires grad (parameters never do in a differentiable run).
bool reaches_input(const std::unordered_set<Node*>& nodes) {
  for (Node* n : nodes) {
    if (named(n, "AccumulateGrad")) return true;
  }
  return false;
}

int count_relus(const std::unordered_set<Node*>& nodes) {
  int k = 0;
  for (Node* n : nodes) k += named(n, "ReluBackward");
  return k;
}

bool is_post_relu(Node* n) {
  if (named(n, "ReluBackward")) return true;
  if (!named(n, "CatBackward") || n->next_edges().empty()) return false;
  for (const auto& e : n->next_edges()) {
    if (!named(e.function.get(), "ReluBackward")) return false;
  }
  return true;
}

}  // namespace

CutAnalysis analyse_cuts(Model& model, const Tap* target, const std::vector<Tap>& extra) {
  std::vector<Tap> taps;
  for (const auto& l : model.layers()) taps.push_back({l.name, TapSide::Output});
  taps.insert(taps.end(), extra.begin(), extra.end());
  const size_t analysed = taps.size();
  if (target) taps.push_back(*target);
  RunOptions ro;
  ro.differentiable = true;
  ro.want_output = true;
  ReceptiveFieldOptions probe;
  probe.samples = 1;
  auto res = model.run(random_inputs(model, probe), taps, ro);

  Node* out = node_of(res.output);
  Node* goal = target ? node_of(res.taps.back()) : out;
  if (!goal) {
    throw Error(model.name() + ": " + (target ? "tap " + target->str() : std::string("the output")) +
                " does not depend on the input");
  }
  const auto upstream = ancestors(goal);
  CutAnalysis a;
  a.total_relus = count_relus(ancestors(out));
  std::unordered_map<Node*, std::string> first_tap;
  for (size_t i = 0; i < analysed; ++i) {
    TapCut c;
    c.tap = taps[i];
    Node* n = node_of(res.taps[i]);
    if (n) {
      c.post_relu = is_post_relu(n);
      c.relus_before = count_relus(ancestors(n));
      c.upstream = n != goal && upstream.count(n);
      c.cut = c.upstream && !reaches_input(ancestors(goal, n));
      auto [it, fresh] = first_tap.emplace(n, c.tap.str());
      if (!fresh) c.same_as = it->second;
    }
    a.taps.push_back(std::move(c));
  }
  return a;
}

double relu_depth(const TapCut& t, const CutAnalysis& a) {
  return a.total_relus ? static_cast<double>(t.relus_before) / a.total_relus : 0.0;
}

}  // namespace tension::model
