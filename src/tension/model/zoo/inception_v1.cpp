// inception-v1: Lucid's InceptionV1 ("inception5h") in the layout of its PyTorch port
// (docs/paper-code.md §3): explicit asymmetric paddings, -inf padded max-pools, LRN, 1008 logits,
// and the parameter keys of inception5h.pth. Plain ReLUs: gradients are true gradients.
// Layer names are Lucid's; a block "mixedXY" and its "mixedXY_pre_relu" both take the block's input as ":in".
#include <array>
#include <limits>

#include "tension/core/error.h"
#include "tension/model/zoo/net.h"

namespace tension::model {

namespace {

namespace nn = torch::nn;
namespace F = torch::nn::functional;

InputSpec inception_input() {
  InputSpec in;
  in.range_lo = -117.0;
  in.range_hi = 138.0;
  return in;  // taps before the head run at any size; the head needs 224 (mixed5b at 7x7)
}

// Zero padding (left, right, top, bottom) that Lucid applies before a convolution.
using Pad = std::array<int64_t, 4>;

// A convolution "<unit>_pre_relu_conv" whose output feeds the ReLU layer "<unit>".
struct ConvUnit {
  std::string unit;
  nn::Conv2d conv{nullptr};
  Pad pad{};
  std::string conv_name() const { return unit + "_pre_relu_conv"; }
};

// Branch widths of one inception block; the output concatenates [1x1, 3x3, 5x5, pool_reduce].
struct BlockSpec {
  const char* name;
  const char* pool_before;  // the stride-2 max-pool that precedes the block, or ""
  int64_t c1x1, c3x3_bottleneck, c3x3, c5x5_bottleneck, c5x5, pool_reduce;
};

// Lucid's widths; mixed4a (192 + 204 + 48 + 64 = 508) and the mixed5a 5x5 bottleneck (48) differ from GoogLeNet.
constexpr BlockSpec kBlocks[] = {
    {"mixed3a", "", 64, 96, 128, 16, 32, 32},          {"mixed3b", "", 128, 128, 192, 32, 96, 64},
    {"mixed4a", "maxpool4", 192, 96, 204, 16, 48, 64}, {"mixed4b", "", 160, 112, 224, 24, 64, 64},
    {"mixed4c", "", 128, 128, 256, 24, 64, 64},        {"mixed4d", "", 112, 144, 288, 32, 64, 64},
    {"mixed4e", "", 256, 160, 320, 32, 128, 128},      {"mixed5a", "maxpool10", 256, 160, 320, 48, 128, 128},
    {"mixed5b", "", 384, 192, 384, 48, 128, 128},
};

struct Block {
  std::string name, pool_before;
  ConvUnit b1x1, b3x3_bottleneck, b3x3, b5x5_bottleneck, b5x5, pool_reduce;
};

class InceptionV1 : public ZooNet {
 public:
  InceptionV1() : ZooNet(inception_input()) {
    conv2d0_ = conv_relu_unit("conv2d0", 3, 64, 7, 2, {2, 3, 2, 3});
    add_layer("maxpool0", "MaxPool2d");
    add_layer("localresponsenorm0", "LocalResponseNorm");
    conv2d1_ = conv_relu_unit("conv2d1", 64, 64, 1, 1, {0, 0, 0, 0});
    conv2d2_ = conv_relu_unit("conv2d2", 64, 192, 3, 1, {1, 1, 1, 1});
    add_layer("localresponsenorm1", "LocalResponseNorm");
    add_layer("maxpool1", "MaxPool2d");
    int64_t in = 192;
    for (const auto& spec : kBlocks) in = add_block(spec, in);
    add_layer("avgpool0", "AvgPool2d");
    head_ = register_module("softmax2_pre_activation_matmul", nn::Linear(in, 1008));
    add_layer("softmax2_pre_activation_matmul", "Linear");
  }

  torch::Tensor forward(const torch::Tensor& x, TapRecorder& rec) override {
    auto h = conv_relu(conv2d0_, x, rec);
    h = max_pool("maxpool0", h, 2, rec);
    h = lrn("localresponsenorm0", h, rec);
    h = conv_relu(conv2d1_, h, rec);
    h = conv_relu(conv2d2_, h, rec);
    h = lrn("localresponsenorm1", h, rec);
    h = max_pool("maxpool1", h, 2, rec);
    for (auto& b : blocks_) {
      if (!b.pool_before.empty()) h = max_pool(b.pool_before, h, 2, rec);
      h = block(b, h, rec);
    }
    return head(h, rec);
  }

 private:
  // Registers "<unit>_pre_relu_conv" and lists it with its ReLU "<unit>", for the convs whose ReLU follows
  // directly (the stem and the bottlenecks; the branch outputs' ReLUs come after the block's concatenation).
  ConvUnit conv_relu_unit(const std::string& unit, int64_t in, int64_t out, int64_t k, int64_t stride, Pad pad) {
    ConvUnit u = conv_unit(unit, in, out, k, stride, pad);
    add_layer(unit, "ReLU");
    return u;
  }

  ConvUnit conv_unit(const std::string& unit, int64_t in, int64_t out, int64_t k, int64_t stride, Pad pad) {
    ConvUnit u{unit, nn::Conv2d(nullptr), pad};
    u.conv = register_module(u.conv_name(), nn::Conv2d(nn::Conv2dOptions(in, out, k).stride(stride)));
    add_layer(u.conv_name(), "Conv2d");
    return u;
  }

  // Lists the block's layers in the order block() computes them; returns its output width.
  int64_t add_block(const BlockSpec& s, int64_t in) {
    Block b;
    b.name = s.name;
    b.pool_before = s.pool_before;
    if (!b.pool_before.empty()) add_layer(b.pool_before, "MaxPool2d");
    b.b1x1 = conv_unit(b.name + "_1x1", in, s.c1x1, 1, 1, {0, 0, 0, 0});
    b.b3x3_bottleneck = conv_relu_unit(b.name + "_3x3_bottleneck", in, s.c3x3_bottleneck, 1, 1, {0, 0, 0, 0});
    b.b3x3 = conv_unit(b.name + "_3x3", s.c3x3_bottleneck, s.c3x3, 3, 1, {1, 1, 1, 1});
    b.b5x5_bottleneck = conv_relu_unit(b.name + "_5x5_bottleneck", in, s.c5x5_bottleneck, 1, 1, {0, 0, 0, 0});
    b.b5x5 = conv_unit(b.name + "_5x5", s.c5x5_bottleneck, s.c5x5, 5, 1, {2, 2, 2, 2});
    add_layer(b.name + "_pool", "MaxPool2d");
    b.pool_reduce = conv_unit(b.name + "_pool_reduce", in, s.pool_reduce, 1, 1, {0, 0, 0, 0});
    add_layer(b.name + "_pre_relu", "InceptionPreReLU");
    for (const auto* u : {&b.b1x1, &b.b3x3, &b.b5x5, &b.pool_reduce}) add_layer(u->unit, "ReLU");
    add_layer(b.name, "Inception");
    blocks_.push_back(std::move(b));
    return s.c1x1 + s.c3x3 + s.c5x5 + s.pool_reduce;
  }

  // Every layer function returns an undefined tensor at once when the recorder says stop, so the forward reads
  // straight through.

  // The ":in" tap is the input before Lucid's padding, the same tensor as the previous layer's output.
  torch::Tensor conv(ConvUnit& u, const torch::Tensor& x, TapRecorder& rec) {
    if (rec.in(u.conv_name(), x)) return {};
    auto y = u.conv->forward(F::pad(x, F::PadFuncOptions({u.pad[0], u.pad[1], u.pad[2], u.pad[3]})));
    rec.out(u.conv_name(), y);
    return y;
  }

  torch::Tensor relu(const std::string& name, const torch::Tensor& pre, TapRecorder& rec) {
    if (rec.in(name, pre)) return {};
    auto y = torch::relu(pre);
    rec.out(name, y);
    return y;
  }

  torch::Tensor conv_relu(ConvUnit& u, const torch::Tensor& x, TapRecorder& rec) {
    return relu(u.unit, conv(u, x, rec), rec);
  }

  // 3x3 max-pool after -inf padding: right/bottom by 1 at stride 2 (Lucid's "SAME"), all sides at stride 1.
  torch::Tensor max_pool(const std::string& name, const torch::Tensor& x, int64_t stride, TapRecorder& rec) {
    if (rec.in(name, x)) return {};
    auto pad = stride == 2 ? std::vector<int64_t>{0, 1, 0, 1} : std::vector<int64_t>{1, 1, 1, 1};
    auto padded = F::pad(x, F::PadFuncOptions(pad).value(-std::numeric_limits<double>::infinity()));
    auto y = F::max_pool2d(padded, F::MaxPool2dFuncOptions(3).stride(stride));
    rec.out(name, y);
    return y;
  }

  // PyTorch semantics: alpha is divided by the window size (9, i.e. 4 channels either side, zero padded).
  torch::Tensor lrn(const std::string& name, const torch::Tensor& x, TapRecorder& rec) {
    if (rec.in(name, x)) return {};
    auto y = F::local_response_norm(x, F::LocalResponseNormFuncOptions(9).alpha(9.99999974738e-05).beta(0.5).k(1));
    rec.out(name, y);
    return y;
  }

  // The branches' pre-ReLU outputs are concatenated first ("<block>_pre_relu") and each branch ReLU reads its
  // slice of that concatenation: every tap then lies on the path to later layers, so a gradient with respect
  // to any of them is defined.
  torch::Tensor block(Block& b, const torch::Tensor& x, TapRecorder& rec) {
    if (rec.in(b.name, x) || rec.in(b.name + "_pre_relu", x)) return {};
    auto p1 = conv(b.b1x1, x, rec);
    auto p3 = conv(b.b3x3, conv_relu(b.b3x3_bottleneck, x, rec), rec);
    auto p5 = conv(b.b5x5, conv_relu(b.b5x5_bottleneck, x, rec), rec);
    auto pp = conv(b.pool_reduce, max_pool(b.name + "_pool", x, 1, rec), rec);
    if (rec.done()) return {};
    auto pre = torch::cat({p1, p3, p5, pp}, 1);
    rec.out(b.name + "_pre_relu", pre);
    std::vector<torch::Tensor> post;
    int64_t offset = 0;
    for (auto* u : {&b.b1x1, &b.b3x3, &b.b5x5, &b.pool_reduce}) {
      int64_t width = u->conv->options.out_channels();
      post.push_back(relu(u->unit, pre.narrow(1, offset, width), rec));
      offset += width;
    }
    if (rec.done()) return {};
    auto y = torch::cat(post, 1);
    rec.out(b.name, y);
    return y;
  }

  // 7x7 average pool, then the 1008 logits (Lucid's softmax2 is left out: the logits are the model output).
  torch::Tensor head(const torch::Tensor& mixed5b, TapRecorder& rec) {
    if (rec.in("avgpool0", mixed5b)) return {};
    if (mixed5b.size(2) != 7 || mixed5b.size(3) != 7) {
      throw Error("inception-v1: the classifier head needs mixed5b at 7x7 (a 224x224 input), got " +
                  std::to_string(mixed5b.size(2)) + "x" + std::to_string(mixed5b.size(3)) +
                  "; taps up to mixed5b run at any input size");
    }
    auto pooled = F::avg_pool2d(mixed5b, F::AvgPool2dFuncOptions(7).stride(1));
    rec.out("avgpool0", pooled);
    auto flat = pooled.reshape({pooled.size(0), -1});
    if (rec.in("softmax2_pre_activation_matmul", flat)) return {};
    auto logits = head_->forward(flat);
    rec.out("softmax2_pre_activation_matmul", logits);
    return logits;
  }

  ConvUnit conv2d0_, conv2d1_, conv2d2_;
  std::vector<Block> blocks_;
  nn::Linear head_{nullptr};
};

}  // namespace

std::shared_ptr<ZooNet> make_inception_v1() { return std::make_shared<InceptionV1>(); }

}  // namespace tension::model
