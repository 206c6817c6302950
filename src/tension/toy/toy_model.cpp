#include "tension/toy/toy_model.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "tension/core/error.h"

namespace tension::toy {

ToyModel init_model(int inputs, int hidden, int outputs, bool hidden_bias, uint64_t seed, double scale) {
  auto gen = at::detail::createCPUGenerator(seed);
  auto uniform = [&](std::vector<int64_t> shape, int fan_in) {
    const double bound = scale / std::sqrt(static_cast<double>(fan_in));
    return torch::empty(shape).uniform_(-bound, bound, gen);
  };
  ToyModel m;
  m.w1 = uniform({hidden, inputs}, inputs);
  m.b1 = hidden_bias ? uniform({hidden}, inputs) : torch::zeros({hidden});
  m.w2 = uniform({outputs, hidden}, hidden);
  m.b2 = uniform({outputs}, hidden);
  return m;
}

torch::Tensor hidden_layer(const ToyModel& m, const torch::Tensor& x) {
  return torch::relu(torch::addmm(m.b1, x, m.w1.t()));
}

torch::Tensor output_pre(const ToyModel& m, const torch::Tensor& h) { return torch::addmm(m.b2, h, m.w2.t()); }

torch::Tensor toy_forward(const ToyModel& m, const torch::Tensor& x) {
  return torch::relu(output_pre(m, hidden_layer(m, x)));
}

void pack(const ToyModel& m, const PaddedLayout& layout, float* row) {
  const int64_t hidden = m.hidden(), inputs = m.w1.size(1), outputs = m.w2.size(0);
  if (hidden > kHiddenPad || inputs > layout.inputs_pad || outputs > kOutputPad) {
    throw Error("toy model too large for the fused trainer (at most 16 hidden units, 16 inputs, 8 outputs)");
  }
  std::fill(row, row + layout.size, 0.f);
  auto w1t = m.w1.to(torch::kFloat32), b1t = m.b1.to(torch::kFloat32);
  auto w2t = m.w2.to(torch::kFloat32), b2t = m.b2.to(torch::kFloat32);
  auto w1 = w1t.accessor<float, 2>();
  auto b1 = b1t.accessor<float, 1>();
  auto w2 = w2t.accessor<float, 2>();
  auto b2 = b2t.accessor<float, 1>();
  for (int64_t k = 0; k < hidden; ++k) {
    for (int64_t j = 0; j < inputs; ++j) row[layout.w1 + j * kHiddenPad + k] = w1[k][j];
    row[layout.b1 + k] = b1[k];
    for (int64_t i = 0; i < outputs; ++i) row[layout.w2 + i * kHiddenPad + k] = w2[i][k];
  }
  for (int64_t i = 0; i < outputs; ++i) row[layout.b2 + i] = b2[i];
}

ToyModel unpack(const PaddedLayout& layout, const float* row, int inputs, int hidden, int outputs) {
  ToyModel m{torch::empty({hidden, inputs}), torch::empty({hidden}), torch::empty({outputs, hidden}),
             torch::empty({outputs})};
  auto w1 = m.w1.accessor<float, 2>();
  auto b1 = m.b1.accessor<float, 1>();
  auto w2 = m.w2.accessor<float, 2>();
  auto b2 = m.b2.accessor<float, 1>();
  for (int k = 0; k < hidden; ++k) {
    for (int j = 0; j < inputs; ++j) w1[k][j] = row[layout.w1 + j * kHiddenPad + k];
    b1[k] = row[layout.b1 + k];
    for (int i = 0; i < outputs; ++i) w2[i][k] = row[layout.w2 + i * kHiddenPad + k];
  }
  for (int i = 0; i < outputs; ++i) b2[i] = row[layout.b2 + i];
  return m;
}

}  // namespace tension::toy
