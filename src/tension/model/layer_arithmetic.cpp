#include "tension/model/layer_arithmetic.h"

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/generated/Functions.h>
#include <torch/csrc/autograd/variable.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <vector>

namespace tension::model {

namespace {

namespace gen = torch::autograd::generated;
using torch::autograd::Node;

// Ops that keep every position in place (elementwise, per-channel, along channels), given that their output's
// last two sizes are their input's (checked where they are met; a size-1 input is broadcast).
const std::set<std::string> kPositionwise = {
    "Add", "Sub", "Mul", "Div", "Neg", "Abs", "Relu", "Threshold", "Hardtanh", "LeakyRelu", "Elu", "Gelu", "Silu",
    "Sigmoid", "Tanh", "Hardswish", "Hardsigmoid", "Softplus", "Mish", "Clamp", "ClampMin", "ClampMax", "Pow",
    "Sqrt", "Rsqrt", "Exp", "Log", "NativeBatchNorm", "CudnnBatchNorm", "MiopenBatchNorm", "Cat", "Stack",
    "Unsqueeze", "Squeeze", "View", "ReshapeAlias", "UnsafeView", "Expand", "Clone", "ToCopy", "Alias", "Split",
    "SplitWithSizes", "Unbind", "Slice", "Mean", "Sum"};

// "ReluBackward0" -> "Relu".
std::string op_of(const Node& n) {
  std::string s = n.name();
  auto colon = s.rfind(':');
  if (colon != std::string::npos) s = s.substr(colon + 1);
  while (!s.empty() && std::isdigit(static_cast<unsigned char>(s.back()))) s.pop_back();
  const std::string suffix = "Backward";
  if (s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0) {
    s.resize(s.size() - suffix.size());
  }
  return s;
}

// LibTorch 1.x saves sizes as int64_t, 2.x partly as SymInt.
int64_t as_int(int64_t v) { return v; }
[[maybe_unused]] int64_t as_int(const c10::SymInt& v) { return v.expect_int(); }



// The last two entries of a per-dimension parameter (one entry: both axes; none: `otherwise`).
template <class V>
std::array<int64_t, 2> last_two(const V& v, std::array<int64_t, 2> otherwise) {
  if (v.empty()) return otherwise;
  if (v.size() == 1) return {as_int(v[0]), as_int(v[0])};
  return {as_int(v[v.size() - 2]), as_int(v[v.size() - 1])};
}

// A window op (convolution, pooling): kernel k, stride s, padding p and dilation d along each axis.
LayerField windowed(LayerField f, std::array<int64_t, 2> k, std::array<int64_t, 2> s, std::array<int64_t, 2> p,
                    std::array<int64_t, 2> d) {
  if (!f.positional) return f;
  for (int a = 0; a < 2; ++a) {
    auto& ax = (*f.positional)[a];
    ax.size += (k[a] - 1) * d[a] * ax.stride;
    ax.offset -= p[a] * ax.stride;
    ax.stride *= s[a];
  }
  return f;
}

Box unite(const Box& a, const Box& b) {
  if (a.height() <= 0 || a.width() <= 0) return b;
  if (b.height() <= 0 || b.width() <= 0) return a;
  return {std::min(a.top, b.top), std::min(a.left, b.left), std::max(a.bottom, b.bottom),
          std::max(a.right, b.right)};
}

// Every source position that some position of an h x w grid read under f (unclipped).
Box extent(const LayerField& f, int64_t h, int64_t w) {
  Box b = f.fixed;
  if (f.positional) {
    const auto& [r, c] = *f.positional;
    b = unite(b, {r.offset, c.offset, (h - 1) * r.stride + r.offset + r.size, (w - 1) * c.stride + c.offset + c.size});
  }
  return b;
}

bool same_trailing(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  return a.size() >= 2 && b.size() >= 2 && a[a.size() - 2] == b[b.size() - 2] && a.back() == b.back();
}

// Whether a `dim` argument of a tensor with `ndim` dimensions names one of its last two.
bool spatial_dim(int64_t dim, size_t ndim) {
  const auto n = static_cast<int64_t>(ndim);
  if (dim < 0) dim += n;
  return dim >= n - 2;
}

}  // namespace

Box field_box(const LayerField& f, const Box& at, int64_t h, int64_t w) {
  Box b = f.fixed;
  if (f.positional && at.height() > 0 && at.width() > 0) {
    const auto& [r, c] = *f.positional;
    b = unite(b, {at.top * r.stride + r.offset, at.left * c.stride + c.offset,
                  (at.bottom - 1) * r.stride + r.offset + r.size, (at.right - 1) * c.stride + c.offset + c.size});
  }
  Box clipped{std::max<int64_t>(b.top, 0), std::max<int64_t>(b.left, 0), std::min(b.bottom, h),
              std::min(b.right, w)};
  if (clipped.height() <= 0 || clipped.width() <= 0) return {};
  return clipped;
}

LayerArithmetic::LayerArithmetic(const torch::Tensor& source) {
  auto edge = torch::autograd::impl::gradient_edge(source);
  source_node_ = edge.function.get();
  source_nr_ = edge.input_nr;
  source_h_ = source.dim() >= 2 ? source.size(-2) : 1;
  source_w_ = source.dim() >= 2 ? source.size(-1) : 1;
}

std::optional<LayerField> LayerArithmetic::field(const torch::Tensor& t) {
  auto w = edge_field(torch::autograd::impl::gradient_edge(t));
  if (!w.known) return std::nullopt;
  return w.field;
}

std::optional<Box> LayerArithmetic::box(const torch::Tensor& t, const Box& at) {
  auto f = field(t);
  if (!f) return std::nullopt;
  return field_box(*f, at, source_h_, source_w_);
}

// LibTorch 1.13 keeps the recorded shape private and offers only a zero tensor of it: one per output, remembered.
const std::vector<int64_t>& LayerArithmetic::shape_of(const Node& n, uint32_t nr) {
  auto [it, fresh] = shapes_.try_emplace({&n, nr});
  if (fresh) it->second = n.input_metadata(nr).zeros_like().sizes().vec();
  return it->second;
}

LayerArithmetic::Walked LayerArithmetic::edge_field(const torch::autograd::Edge& e) {
  if (!e.function) return {};
  if (e.function.get() == source_node_ && e.input_nr == source_nr_) return {{std::array<AxisField, 2>{}, {}}, true};
  if (e.function.get() == source_node_) return {};  // another output of the source's op
  return node_field(e.function.get());
}

LayerArithmetic::Walked LayerArithmetic::node_field(Node* node) {
  if (auto it = memo_.find(node); it != memo_.end()) return it->second;
  return memo_[node] = walk(node);
}

LayerArithmetic::Walked LayerArithmetic::walk(Node* node) {
  const std::string op = op_of(*node);
  const auto out_shape = shape_of(*node, 0);

  // The fields of the op's inputs and their shapes; inputs that do not depend on the source are left out.
  struct Input {
    Walked w;
    std::vector<int64_t> shape;
  };
  std::vector<Input> inputs;
  bool all_known = true;
  auto add_input = [&](const torch::autograd::Edge& e) {
    auto w = edge_field(e);
    if (w.field.reads_nothing()) return;
    all_known = all_known && w.known;
    inputs.push_back({w, shape_of(*e.function, e.input_nr)});
  };
  // A channel slice of a concatenation along channels (Lucid's branch ReLUs read their slice of the block's
  // pre-ReLU concatenation) reads only the concatenated tensors it overlaps.
  const auto& next = node->next_edges();
  auto* slice = dynamic_cast<gen::SliceBackward0*>(node);
  auto* cat = slice && !next.empty() && next[0].function ? dynamic_cast<gen::CatBackward0*>(next[0].function.get())
                                                         : nullptr;
  const auto in0 = cat ? shape_of(*next[0].function, next[0].input_nr) : std::vector<int64_t>{};
  const auto nd = static_cast<int64_t>(in0.size());
  auto norm = [nd](int64_t d) { return d < 0 ? d + nd : d; };
  if (cat && nd >= 3 && norm(slice->dim) == norm(cat->dim) && !spatial_dim(slice->dim, in0.size()) &&
      as_int(slice->step) == 1 &&
      std::all_of(cat->next_edges().begin(), cat->next_edges().end(), [](const auto& e) { return e.function; })) {
    const int64_t d = norm(slice->dim), n = in0[static_cast<size_t>(d)];
    auto clamp_index = [n](int64_t i) { return std::clamp<int64_t>(i < 0 ? i + n : i, 0, n); };
    const int64_t lo = slice->start ? clamp_index(as_int(*slice->start)) : 0;
    const int64_t hi = slice->end ? clamp_index(as_int(*slice->end)) : n;
    int64_t at = 0;
    for (const auto& e : cat->next_edges()) {
      const int64_t width = shape_of(*e.function, e.input_nr)[static_cast<size_t>(d)];
      if (at < hi && at + width > lo) add_input(e);
      at += width;
    }
  } else {
    for (const auto& e : next) add_input(e);
  }
  if (inputs.empty()) return {};

  // Everything the inputs read: an output without positions, or a single position made from more, reads all of
  // it with every unit (a dense layer, a global pool); this bound holds for every op.
  LayerField everything;
  for (const auto& in : inputs) {
    const auto& s = in.shape;
    everything.fixed =
        unite(everything.fixed, s.size() >= 2 ? extent(in.w.field, s[s.size() - 2], s.back()) : in.w.field.fixed);
  }
  auto uncovered = [&](const std::string& why) {
    if (uncovered_.empty()) uncovered_ = op + " (" + why + ")";
    return Walked{everything, false};
  };
  if (out_shape.size() < 3) return {everything, true};
  const std::array<int64_t, 2> out_hw = {out_shape[out_shape.size() - 2], out_shape.back()};
  if (out_hw == std::array<int64_t, 2>{1, 1} && inputs.size() == 1 && !same_trailing(inputs[0].shape, out_shape)) {
    return {everything, true};
  }
  if (!all_known) return {everything, false};

  const std::array<int64_t, 2> one = {1, 1}, zero = {0, 0};
  const LayerField& in_field = inputs[0].w.field;
  if (op == "Convolution") {
    auto conv = [&](auto* c) {
      if (c->transposed) return uncovered("transposed");
      auto w = c->weight_.unpack();
      if (!w.defined() || w.dim() < 4) return uncovered("weight not saved");
      return Walked{windowed(in_field, {w.size(-2), w.size(-1)}, last_two(c->stride, one),
                             last_two(c->padding, zero), last_two(c->dilation, one)),
                    true};
    };
    if (auto* c = dynamic_cast<gen::ConvolutionBackward0*>(node)) return conv(c);
    if (auto* c = dynamic_cast<gen::ConvolutionBackward1*>(node)) return conv(c);
    return uncovered("unexpected node type");
  }
  if (op == "MaxPool2DWithIndices" || op == "MaxPool3DWithIndices" || op == "AvgPool2D" || op == "AvgPool3D") {
    auto pool = [&](auto* p, std::array<int64_t, 2> dilation) {
      auto k = last_two(p->kernel_size, one);
      return Walked{windowed(in_field, k, last_two(p->stride, k), last_two(p->padding, zero), dilation), true};
    };
    if (auto* p = dynamic_cast<gen::MaxPool2DWithIndicesBackward0*>(node)) return pool(p, last_two(p->dilation, one));
    if (auto* p = dynamic_cast<gen::MaxPool3DWithIndicesBackward0*>(node)) return pool(p, last_two(p->dilation, one));
    if (auto* p = dynamic_cast<gen::AvgPool2DBackward0*>(node)) return pool(p, one);
    if (auto* p = dynamic_cast<gen::AvgPool3DBackward0*>(node)) return pool(p, one);
    return uncovered("unexpected node type");
  }
  if (op == "AdaptiveAvgPool2D" || op == "AdaptiveMaxPool2D") {
    const auto& s = inputs[0].shape;
    const std::array<int64_t, 2> in_hw = {s[s.size() - 2], s.back()};
    if (in_hw[0] % out_hw[0] != 0 || in_hw[1] % out_hw[1] != 0) return uncovered("uneven bins");
    const std::array<int64_t, 2> k = {in_hw[0] / out_hw[0], in_hw[1] / out_hw[1]};
    return {windowed(in_field, k, k, zero, one), true};
  }
  if (op == "ConstantPadNd") {
    auto* p = dynamic_cast<gen::ConstantPadNdBackward0*>(node);
    if (!p) return uncovered("unexpected node type");
    LayerField f = in_field;
    // pad lists (before, after) pairs from the last dimension backwards.
    if (f.positional) {
      if (p->pad.size() >= 2) (*f.positional)[1].offset -= as_int(p->pad[0]) * (*f.positional)[1].stride;
      if (p->pad.size() >= 4) (*f.positional)[0].offset -= as_int(p->pad[2]) * (*f.positional)[0].stride;
    }
    return {f, true};
  }
  if (op == "Softmax" || op == "LogSoftmax" || op == "Select") {
    int64_t dim = 0;
    if (auto* p = dynamic_cast<gen::SoftmaxBackward0*>(node)) dim = p->dim;
    else if (auto* p = dynamic_cast<gen::LogSoftmaxBackward0*>(node)) dim = p->dim;
    else if (auto* p = dynamic_cast<gen::SelectBackward0*>(node)) dim = p->dim;
    else return uncovered("unexpected node type");
    if (spatial_dim(dim, inputs[0].shape.size())) return uncovered("along a spatial dimension");
  } else if (!kPositionwise.count(op)) {
    return uncovered("not a layer the arithmetic covers");
  }
  if ((op == "Sum" || op == "Mean") && inputs[0].shape.size() != out_shape.size()) {
    return uncovered("a reduction that drops dimensions");
  }
  // Positionwise: unite the inputs on the output's grid; an input of one position is read by all.
  LayerField f;
  for (const auto& in : inputs) {
    const auto& s = in.shape;
    const auto& g = in.w.field;
    if (same_trailing(s, out_shape)) {
      f.fixed = unite(f.fixed, g.fixed);
      if (!g.positional) continue;
      if (!f.positional) {
        f.positional = g.positional;
        continue;
      }
      for (int a = 0; a < 2; ++a) {
        auto& x = (*f.positional)[a];
        const auto& y = (*g.positional)[a];
        if (x.stride != y.stride) return uncovered("inputs on different grids");
        const int64_t end = std::max(x.offset + x.size, y.offset + y.size);
        x.offset = std::min(x.offset, y.offset);
        x.size = end - x.offset;
      }
    } else if (s.size() < 2 || (s[s.size() - 2] == 1 && s.back() == 1)) {
      f.fixed = unite(f.fixed, s.size() >= 2 ? extent(g, 1, 1) : g.fixed);
    } else {
      return uncovered("changes the positions");
    }
  }
  return {f, true};
}

}  // namespace tension::model
