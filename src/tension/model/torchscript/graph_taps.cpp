#include "tension/model/torchscript/graph_taps.h"

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/ir/alias_analysis.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/remove_mutation.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <unordered_set>

#include "tension/core/error.h"

namespace tension::model {

namespace jit = torch::jit;
using jit::Node;
using jit::Value;

namespace {

using CallHook = std::function<void(const ModuleCall&, Node*)>;
using ValuePredicate = std::function<bool(Value*)>;

std::shared_ptr<jit::Graph> forward_graph(const torch::jit::Module& module) {
  return module.get_method("forward").graph()->copy();
}

// A Python __call__ of a submodule: its forward, or forwardN (the tracer's name for the N-th extra call).
bool is_call_method(const std::string& name) {
  const std::string prefix = "forward";
  return name.compare(0, prefix.size(), prefix) == 0 &&
         std::all_of(name.begin() + prefix.size(), name.end(), [](unsigned char c) { return std::isdigit(c); });
}

// The named_modules() path of a module value: its prim::GetAttr chain back to the graph's `self`.
std::optional<std::string> module_path(Value* v, const Value* self) {
  std::string path;
  for (; v != self; v = v->node()->input(0)) {
    if (v->node()->kind() != c10::prim::GetAttr) return std::nullopt;
    const std::string& name = v->node()->s(jit::attr::name);
    path = path.empty() ? name : name + "." + path;
  }
  return path;
}

// The function a call node runs, or nullptr when n is no call or its callee is not known statically
// (e.g. a call through an interface type, which then stays opaque).
jit::GraphFunction* callee_of(Node* n) {
  if (n->kind() == c10::prim::CallMethod) {
    auto cls = n->input(0)->type()->cast<c10::ClassType>();
    return cls ? jit::tryToGraphFunction(cls->getMethod(n->s(jit::attr::name))) : nullptr;
  }
  if (n->kind() == c10::prim::CallFunction) {
    auto fn = n->input(0)->type()->cast<c10::FunctionType>();
    return fn ? jit::tryToGraphFunction(*fn->function()) : nullptr;
  }
  return nullptr;
}

// Inlines every call in `block`, in execution order, from the callees' raw graphs: torch::jit::Inline uses
// optimized_graph(), which is not inlined recursively when the graph executor's optimizer is off, and would leave
// e.g. the in-place relu_ inside scripted F.relu opaque. Before a submodule call is inlined, on_call may place
// markers around it.
void inline_calls(jit::Block* block, const Value* self, const CallHook& on_call) {
  for (Node* n = block->param_node()->next(); n != block->return_node();) {
    jit::GraphFunction* callee = callee_of(n);
    if (!callee) {
      for (jit::Block* b : n->blocks()) inline_calls(b, self, on_call);
      n = n->next();
      continue;
    }
    if (n->kind() == c10::prim::CallMethod) {
      auto path = module_path(n->input(0), self);
      if (path && !path->empty() && is_call_method(n->s(jit::attr::name))) {
        auto cls = n->input(0)->type()->expect<c10::ClassType>();
        on_call({*path, cls->name() ? cls->name()->name() : cls->str(),
                 n->owningBlock() != n->owningGraph()->block()},
                n);
      }
    } else {
      n->removeInput(0);  // the function constant: the callee's graph does not take it
    }
    Node* prev = n->prev();
    jit::inlineCallTo(n, callee, callee->graph().get());
    n = prev->next();
  }
}

// Step 4: aten::clone(v) at the tap's boundary (before the call for its input, after it for its output), kept
// alive as a temporary graph output because the passes that follow eliminate dead code. Returns its output index.
// A call after one inside an if or a loop has no fixed index either, hence `counted_in_control_flow`.
size_t add_marker(jit::Graph& g, Node* call, const std::string& tap, bool input, bool counted_in_control_flow) {
  if (counted_in_control_flow) {
    throw Error("tap '" + tap + "': tap inside control flow not supported (the layer is called in an if or a loop)");
  }
  if (input && call->inputs().size() < 2) throw Error("tap '" + tap + "': the layer takes no input");
  Value* v = input ? call->input(1) : call->output();
  if (!v->type()->isSubtypeOf(*c10::TensorType::get())) {
    throw Error("tap '" + tap + "' is a " + v->type()->repr_str() + ", not a tensor");
  }
  jit::WithInsertPoint guard(input ? call : call->next());
  return g.registerOutput(g.insert(c10::aten::clone, {v}));
}

// Whether n writes to an input matching `target`, per its schema. AliasDb::hasWriters would be too conservative:
// tensors that went into a list join its wildcard set.
bool writes_to(Node* n, const ValuePredicate& target) {
  const c10::FunctionSchema* schema = n->maybeSchema();
  if (!schema) return false;
  const auto& args = schema->arguments();
  for (size_t i = 0; i < args.size() && i < n->inputs().size(); ++i) {
    const c10::AliasInfo* info = args[i].alias_info();
    if (info && info->isWrite() && target(n->input(i))) return true;
  }
  return false;
}

// The first node from `n` on (in execution order, nested blocks included) that writes to `target`.
Node* first_writer_from(Node* n, const ValuePredicate& target) {
  for (; n != n->owningBlock()->return_node(); n = n->next()) {
    if (writes_to(n, target)) return n;
    for (jit::Block* b : n->blocks()) {
      if (Node* w = first_writer_from(b->param_node()->next(), target)) return w;
    }
  }
  return nullptr;
}

// Step 6: replaces the in-place op n on v by its out-of-place variant (relu_ -> relu, add_ -> add) when no other
// value can observe the difference: v is fresh memory (not a view, graph input or attribute) and every earlier
// user of v, the markers included, only reads it without making an alias.
bool make_out_of_place(const std::shared_ptr<jit::Graph>& g, jit::AliasDb& db, Node* n, Value* v) {
  if (n->input(0) != v || n->owningBlock() != v->node()->owningBlock()) return false;
  jit::MutationRemover remover(g);
  if (!remover.inplaceOpVariant(n) || remover.isSpecialMappedOp(n) ||
      jit::MutationRemover::hasSideEffectOrAlias(v, &db)) {
    return false;
  }
  for (const jit::Use& use : v->uses()) {
    Node* u = use.user;
    if (u != n && u->isBefore(n) &&
        (db.mayContainAlias(v, u->outputs()) || writes_to(u, [v](Value* x) { return x == v; }))) {
      return false;
    }
  }
  const std::string name = n->schema().name();
  Node* f = g->create(c10::Symbol::fromQualString(name.substr(0, name.size() - 1)), n->inputs(), 1);
  f->insertBefore(n);
  f->copyMetadata(n);
  f->output()->setType(n->output()->type());
  if (!f->maybeOperator()) {  // an in-place op whose functional twin takes other arguments
    f->destroy();
    return false;
  }
  v->replaceAllUsesAfterNodeWith(n, f->output());
  n->output()->replaceAllUsesWith(f->output());
  n->destroy();
  return true;
}

// Values made from v, before `marker`, that may alias it (views, in-place results).
std::unordered_set<Value*> aliases_made_before(Node* marker, Value* v, const jit::AliasDb& db) {
  std::unordered_set<Value*> made{v};
  for (Node* n = v->node()->next(); n != marker; n = n->next()) {
    bool from_v = std::any_of(n->inputs().begin(), n->inputs().end(), [&](Value* x) { return made.count(x); });
    if (!from_v) continue;
    for (Value* o : n->outputs()) {
      if (db.mayAlias(o, v)) made.insert(o);
    }
  }
  made.erase(v);
  return made;
}

// Step 7: the value of the tap at `marker`, kept intact up to the end of the graph. If nothing writes to it later
// the marker is not needed. Otherwise the first later in-place op is made out-of-place where that is safe; failing
// that, every later use is rerouted through the marker's copy, so in-place ops hit the copy while the tapped value
// keeps its call-time contents and stays on the autograd path through CloneBackward. `db` is g's alias analysis,
// rebuilt only after the graph changes: building it once per tap made this quadratic in the taps (0.35 s of
// `tension layers` on GoogLeNet's ~200 taps).
Value* snapshot(const std::shared_ptr<jit::Graph>& g, std::unique_ptr<jit::AliasDb>& db, Node* marker,
                const std::string& tap) {
  Value* v = marker->input(0);
  for (;;) {
    if (!db) db = std::make_unique<jit::AliasDb>(g);
    Node* writer = first_writer_from(marker->next(), [&](Value* x) { return db->mayAlias(x, v); });
    if (!writer) return v;
    if (make_out_of_place(g, *db, writer, v)) {
      db.reset();
      continue;
    }
    std::unordered_set<Value*> views = aliases_made_before(marker, v, *db);
    v->replaceAllUsesAfterNodeWith(marker, marker->output());
    db.reset();
    if (first_writer_from(marker->next(), [&](Value* x) { return views.count(x) > 0; })) {
      throw Error("tap '" + tap + "' cannot be taken: the model later writes to it in place through a view");
    }
    return v;
  }
}

// Truncation: drops every node after `last` (all of them when null). Dead-code elimination alone would keep
// side-effecting checks (BatchNorm's input-dimension check, warnings) and with them the computation they inspect.
void cut_after(jit::Graph& g, Node* last) {
  Node* stop = last ? last : g.block()->param_node();
  while (g.block()->return_node()->prev() != stop) g.block()->return_node()->prev()->destroy();
}

// Whether n, or any node in its blocks, reads a value of `set`.
bool reads_any(Node* n, const std::unordered_set<Value*>& set) {
  for (Value* v : n->inputs()) {
    if (set.count(v)) return true;
  }
  for (jit::Block* b : n->blocks()) {
    for (Node* m : b->nodes()) {
      if (reads_any(m, set)) return true;
    }
    if (reads_any(b->return_node(), set)) return true;
  }
  return false;
}

// Feeding: a new graph input h replaces the tap's value v from its marker on, and everything computed from the
// image before the marker is dropped (side-effecting checks included), so the function is forward(self, h).
void feed_at(jit::Graph& g, Node* marker, Value* v, const std::string& tap) {
  Value* x = g.inputs()[1];
  Value* h = g.addInput("h")->setType(x->type());
  v->replaceAllUsesAfterNodeWith(marker, marker->output());
  marker->replaceInput(0, h);  // later in-place writes hit the marker's copy, never the caller's h
  std::unordered_set<Value*> from_x{x};
  std::vector<Node*> prefix;
  for (Node* n : g.block()->nodes()) {
    if (n == marker) break;
    if (!reads_any(n, from_x)) continue;
    prefix.push_back(n);
    for (Value* o : n->outputs()) from_x.insert(o);
  }
  for (Node* n = marker->next();; n = n->next()) {
    if (reads_any(n, from_x)) {
      throw Error("the model cannot run from '" + tap + "': later layers also read activations computed before it "
                  "(a skip connection, or a cut between a block's parallel branches)");
    }
    if (n == g.block()->return_node()) break;
  }
  for (auto it = prefix.rbegin(); it != prefix.rend(); ++it) (*it)->destroy();
  g.eraseInput(1);
}

}  // namespace

std::vector<ModuleCall> module_calls(const torch::jit::Module& module) {
  auto g = forward_graph(module);
  std::vector<ModuleCall> calls;
  inline_calls(g->block(), g->inputs()[0], [&](const ModuleCall& c, Node*) { calls.push_back(c); });
  return calls;
}

std::shared_ptr<torch::jit::Function> build_tapped_forward(const torch::jit::Module& module,
                                                           const std::vector<GraphTap>& requested,
                                                           bool want_output,
                                                           const std::optional<GraphTap>& feed) {
  auto g = forward_graph(module);
  // The fed tap gets a marker like the others, placed last.
  std::vector<GraphTap> taps = requested;
  if (feed) taps.push_back(*feed);

  // Steps 1-5: inline everything, with a marker at each tapped call, then fold constants such as the
  // `if inplace:` inside scripted F.relu.
  std::vector<size_t> marker_output(taps.size());
  std::vector<std::string> labels(taps.size());
  std::map<std::string, std::pair<size_t, bool>> seen;  // per layer: calls so far, any in control flow
  size_t call = 0, placed = 0;
  inline_calls(g->block(), g->inputs()[0], [&](const ModuleCall& c, Node* n) {
    auto& [k, in_flow] = seen[c.path];
    in_flow = in_flow || c.in_control_flow;
    for (size_t t = 0; t < taps.size(); ++t) {
      if (taps[t].call != call) continue;
      labels[t] = c.path + (k ? "#" + std::to_string(k) : "") + (taps[t].input ? ":in" : "");
      marker_output[t] = add_marker(*g, n, labels[t], taps[t].input, in_flow);
      ++placed;
    }
    ++k;
    ++call;
  });
  if (placed != taps.size()) throw std::invalid_argument("build_tapped_forward: tap on a call that does not exist");
  jit::ConstantPropagationImmutableTypes(g);

  // Steps 6-7, marker by marker in execution order (rerouting at one marker feeds the copy to the later ones).
  std::vector<Node*> markers;
  for (size_t index : marker_output) markers.push_back(g->outputs()[index]->node());
  std::vector<size_t> order(taps.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return markers[a]->isBefore(markers[b]); });
  std::vector<Value*> tapped(taps.size());
  std::unique_ptr<jit::AliasDb> db;
  for (size_t t : order) tapped[t] = snapshot(g, db, markers[t], labels[t]);

  if (feed) {
    for (size_t t = 0; t < requested.size(); ++t) {
      if (!markers.back()->isBefore(markers[t])) {
        throw Error("tap '" + labels[t] + "' does not come after '" + labels.back() +
                    "', the layer the run starts from");
      }
    }
  }

  // Step 8: return (output?, taps...); without the output, cut the graph after the last tap.
  Value* model_output = g->outputs()[0];
  while (!g->outputs().empty()) g->eraseOutput(g->outputs().size() - 1);
  std::vector<Value*> outputs;
  if (want_output) {
    outputs.push_back(model_output);
  } else {
    cut_after(*g, order.empty() ? nullptr : markers[order.back()]);
  }
  outputs.insert(outputs.end(), tapped.begin(), tapped.begin() + static_cast<std::ptrdiff_t>(requested.size()));
  g->registerOutput(g->appendNode(g->createTuple(outputs))->output());
  if (feed) feed_at(*g, markers.back(), tapped.back(), labels.back());
  jit::EliminateDeadCode(g);

  // Step 9: the SIMPLE executor; the profiling one fuses ops into DifferentiableGraphs whose backward bypasses
  // the tapped intermediates from the second call on.
  return std::make_shared<jit::GraphFunction>(c10::QualifiedName("tension.tapped_forward"), g, nullptr,
                                              jit::ExecutorExecutionMode::SIMPLE);
}

}  // namespace tension::model
