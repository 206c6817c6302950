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

// Every node `from` depends on, itself included.
std::unordered_set<Node*> ancestors(Node* from) {
  std::unordered_set<Node*> seen;
  std::vector<Node*> stack;
  if (from) stack.push_back(from);
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    if (!seen.insert(n).second) continue;
    for (const auto& e : n->next_edges()) {
      Node* m = e.function.get();
      if (m && !seen.count(m)) stack.push_back(m);
    }
  }
  return seen;
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

// Immediate dominators of the forward graph rooted at the input: d dominates n when every path from the input to
// n passes through d, i.e. d is a cut of n. The forward graph is the autograd graph reversed (a node's producers
// are its next edges); Cooper, Harvey & Kennedy's iteration over a reverse postorder from the input. Only nodes
// the input reaches have an entry; the input's entry is itself.
std::unordered_map<Node*, Node*> input_dominators(const std::vector<Node*>& ends) {
  std::unordered_map<Node*, std::vector<Node*>> consumers;
  std::unordered_set<Node*> seen;
  std::vector<Node*> stack;
  Node* input = nullptr;
  for (Node* e : ends) {
    if (e) stack.push_back(e);
  }
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    if (!seen.insert(n).second) continue;
    if (named(n, "AccumulateGrad")) input = n;  // the one leaf that requires grad: parameters never do here
    for (const auto& edge : n->next_edges()) {
      if (Node* p = edge.function.get()) {
        consumers[p].push_back(n);
        stack.push_back(p);
      }
    }
  }
  std::unordered_map<Node*, Node*> idom;
  if (!input) return idom;
  // Postorder from the input over consumer edges (iterative: graphs have thousands of nodes).
  std::vector<Node*> post;
  std::unordered_set<Node*> visited{input};
  std::vector<std::pair<Node*, size_t>> dfs{{input, 0}};
  while (!dfs.empty()) {
    auto& [n, next] = dfs.back();
    const auto& cs = consumers[n];
    if (next < cs.size()) {
      Node* c = cs[next++];
      if (visited.insert(c).second) dfs.push_back({c, 0});
      continue;
    }
    post.push_back(n);
    dfs.pop_back();
  }
  std::unordered_map<Node*, size_t> order;  // postorder number: the input has the largest
  for (size_t i = 0; i < post.size(); ++i) order[post[i]] = i;
  auto intersect = [&](Node* a, Node* b) {
    while (a != b) {
      while (order.at(a) < order.at(b)) a = idom.at(a);
      while (order.at(b) < order.at(a)) b = idom.at(b);
    }
    return a;
  };
  idom[input] = input;
  for (bool changed = true; changed;) {
    changed = false;
    for (auto it = post.rbegin() + 1; it != post.rend(); ++it) {
      Node* n = *it;
      Node* d = nullptr;
      for (const auto& edge : n->next_edges()) {
        Node* p = edge.function.get();
        if (!p || !idom.count(p)) continue;
        d = d ? intersect(p, d) : p;
      }
      if (!d) continue;
      auto [slot, fresh] = idom.emplace(n, d);
      if (fresh || slot->second != d) {
        slot->second = d;
        changed = true;
      }
    }
  }
  return idom;
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
  std::vector<Node*> ends{out, goal};
  for (const auto& t : res.taps) ends.push_back(node_of(t));
  const auto idom = input_dominators(ends);
  // The nodes every path from the input to `from` crosses, nearest first (none when the input does not reach it).
  auto dominators = [&](Node* from) {
    std::vector<Node*> chain;
    auto it = idom.find(from);
    while (it != idom.end() && it->second != it->first) {
      chain.push_back(it->second);
      it = idom.find(it->second);
    }
    return chain;
  };
  const auto goal_chain = dominators(goal);
  const std::unordered_set<Node*> cuts_of_goal(goal_chain.begin(), goal_chain.end());
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
      c.cut = c.upstream && cuts_of_goal.count(n);
      auto [it, fresh] = first_tap.emplace(n, c.tap.str());
      if (!fresh) c.same_as = it->second;
    }
    a.taps.push_back(std::move(c));
  }
  // Each tap's attribution layer: the nearest post-ReLU tap that every path from the input to it crosses.
  for (size_t i = 0; i < analysed; ++i) {
    for (Node* d : dominators(node_of(res.taps[i]))) {
      auto it = first_tap.find(d);
      if (it != first_tap.end() && is_post_relu(d)) {
        a.taps[i].preceding_cut = it->second;
        break;
      }
    }
  }
  return a;
}

double relu_depth(const TapCut& t, const CutAnalysis& a) {
  return a.total_relus ? static_cast<double>(t.relus_before) / a.total_relus : 0.0;
}

}  // namespace tension::model
