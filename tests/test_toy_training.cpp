// The toy trainer against independent references: torch autograd + torch::optim::Adam on the dense batches,
// single-restart runs, direct dense losses, and the sampling distribution.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "testing.h"
#include "tension/toy/toy_data.h"
#include "tension/toy/trainer.h"

using namespace tension;
using namespace tension::toy;

namespace {

// The ground truth written independently of ToyTask::target.
torch::Tensor dense_target(const ToyTask& task, const torch::Tensor& x) {
  if (task.kind == TaskKind::Abs) return x.abs();
  auto a = x.index({torch::indexing::Slice(), torch::indexing::Slice(0, torch::indexing::None, 2)});
  auto b = x.index({torch::indexing::Slice(), torch::indexing::Slice(1, torch::indexing::None, 2)});
  return (a != b).to(torch::kFloat32);
}

torch::Tensor importance(int n) { return torch::pow(0.9, torch::arange(n, torch::kFloat64)).to(torch::kFloat32); }

// Eq. 9, mean over the rows, through autograd-friendly torch ops.
torch::Tensor dense_loss(const ToyTask& task, const std::vector<torch::Tensor>& p, const torch::Tensor& x) {
  auto h = torch::relu(torch::matmul(x, p[0].t()) + p[1]);
  auto f = torch::relu(torch::matmul(h, p[2].t()) + p[3]);
  return ((f - dense_target(task, x)).square() * importance(task.features)).sum(1).mean();
}

// One restart trained the plain way: dense batches of the same stream, autograd, torch's Adam.
std::vector<torch::Tensor> reference_run(const TrainConfig& c, int64_t restart) {
  auto m = init_model(c.task.inputs(), c.hidden, c.task.features, c.hidden_bias, init_seed(c.seed, restart));
  std::vector<torch::Tensor> p{m.w1.clone().requires_grad_(), m.b1.clone().requires_grad_(c.hidden_bias),
                               m.w2.clone().requires_grad_(), m.b2.clone().requires_grad_()};
  std::vector<torch::Tensor> trained{p[0], p[2], p[3]};
  if (c.hidden_bias) trained.push_back(p[1]);
  torch::optim::Adam opt(trained, torch::optim::AdamOptions(c.adam.lr));
  ToyData data(c.task, data_seed(c.seed));
  for (int64_t s = 0; s < c.steps; ++s) {
    auto x = to_dense(c.task, data.next(c.batch));
    opt.zero_grad();
    dense_loss(c.task, p, x).backward();
    opt.step();
  }
  return p;
}

void expect_matches_reference(const TrainConfig& c) {
  auto res = train_restarts(c);
  for (int64_t r = 0; r < c.restarts; ++r) {
    auto ref = reference_run(c, c.first_restart + r);
    auto got = res.model(c, r);
    std::vector<torch::Tensor> mine{got.w1, got.b1, got.w2, got.b2};
    for (size_t k = 0; k < 4; ++k) {
      EXPECT_LT(tension::testing::max_rel_err(mine[k], ref[k].detach()), 2e-4)
          << c.task.name() << " restart " << r << " parameter " << k;
    }
  }
}

TrainConfig small(const std::string& task) {
  TrainConfig c;
  c.task = ToyTask::named(task);
  c.hidden_bias = task == "xor";
  c.hidden = 6;
  c.restarts = 3;
  c.steps = 120;
  c.batch = 600;
  c.chunk = 50;  // chunk boundaries inside the run: Adam's step count must carry over
  c.seed = 7;
  return c;
}

}  // namespace

TEST(ToyTrainer, AbsEqualsAutogradAdamOnTheDenseBatches) {
  auto c = small("abs");
  c.task.p_on = 0.1;  // more on features: every weight gets gradients within the short run
  expect_matches_reference(c);
}

TEST(ToyTrainer, XorWithHiddenBiasEqualsAutogradAdam) {
  auto c = small("xor");
  c.hidden = 12;
  c.task.p_on = 0.2;
  expect_matches_reference(c);
}

TEST(ToyTrainer, BatchedRunEqualsSingleRunsWithTheSameSeeds) {
  auto c = small("xor");
  c.restarts = 5;
  c.first_restart = 10;
  auto all = train_restarts(c);
  for (int64_t r = 0; r < c.restarts; ++r) {
    auto one = c;
    one.first_restart = c.first_restart + r;
    one.restarts = 1;
    auto single = train_restarts(one);
    EXPECT_TRUE(torch::equal(all.params[r], single.params[0])) << "restart " << c.first_restart + r;
    EXPECT_EQ(all.final_loss[r], single.final_loss[0]);
  }
  EXPECT_FALSE(torch::equal(all.params[0], all.params[1]));  // restarts differ
}

TEST(ToyTrainer, HeldOutLossEqualsTheDenseLoss) {
  for (const char* name : {"abs", "xor"}) {
    auto c = small(name);
    c.steps = 30;
    auto res = train_restarts(c);
    const int64_t rows = 20000;
    auto set = heldout_set(c.task, rows, 99);
    auto losses = heldout_losses(c, res, set);
    auto x = to_dense(c.task, ToyData(c.task, 99).next(rows));
    for (int64_t r = 0; r < c.restarts; ++r) {
      auto m = res.model(c, r);
      const double direct = dense_loss(c.task, {m.w1, m.b1, m.w2, m.b2}, x).item<double>();
      EXPECT_NEAR(losses[r], direct, 1e-5 * direct) << name << " restart " << r;
    }
    EXPECT_EQ(best_restart(losses), std::min_element(losses.begin(), losses.end()) - losses.begin());
  }
}

TEST(ToyTrainer, BestRestartSkipsNaN) {
  EXPECT_EQ(best_restart({NAN, 2.0, 1.0, 1.0}), 2);
  EXPECT_EQ(best_restart({NAN}), 0);
  EXPECT_EQ(best_restart({}), -1);
}

TEST(ToyData, SamplingFollowsTheTaskDistribution) {
  auto abs = ToyTask::named("abs", ToyPreset::Code);  // p_on 0.01
  const int64_t rows = 400000;
  auto x = to_dense(abs, ToyData(abs, 3).next(rows));
  const double on = (x != 0).to(torch::kFloat64).mean().item<double>();
  EXPECT_NEAR(on, 0.01, 5 * std::sqrt(0.01 * 0.99 / x.numel()));
  auto v = x.index({x != 0});
  EXPECT_GE(v.min().item<float>(), -1.f);
  EXPECT_LT(v.max().item<float>(), 1.f);
  EXPECT_NEAR(v.mean().item<double>(), 0.0, 0.02);
  EXPECT_NEAR(v.abs().mean().item<double>(), 0.5, 0.02);
  EXPECT_TRUE(torch::equal(x, to_dense(abs, ToyData(abs, 3).next(rows))));  // seeded

  abs.unit_values = true;
  auto u = to_dense(abs, ToyData(abs, 3).next(rows));
  EXPECT_GE(u.min().item<float>(), 0.f);

  auto xr = ToyTask::named("xor");
  auto y = to_dense(xr, ToyData(xr, 4).next(rows)).view({rows, 6, 2});
  auto ones = y.sum(2);
  const double n = static_cast<double>(rows * 6);
  // An on feature (p = 0.05) draws each input of its pair from a fair coin.
  EXPECT_NEAR((ones == 2).to(torch::kFloat64).mean().item<double>(), 0.05 / 4, 5 * std::sqrt(0.0125 / n));
  EXPECT_NEAR((ones == 1).to(torch::kFloat64).mean().item<double>(), 0.05 / 2, 5 * std::sqrt(0.025 / n));
  EXPECT_TRUE(((y == 0) | (y == 1)).all().item<bool>());
}

TEST(ToyData, CompressKeepsEveryRowOnce) {
  for (const char* name : {"abs", "xor"}) {
    auto task = ToyTask::named(name);
    task.p_on = 0.2;
    auto raw = ToyData(task, 5).next(3000);
    auto b = compress(task, raw);
    EXPECT_EQ(b.rows, 3000);
    // Expand the distinct rows by their multiplicities and compare the multisets of rows.
    std::vector<torch::Tensor> rows;
    float total = 0;
    for (int64_t r = 0; r < b.distinct(); ++r) {
      auto row = torch::zeros({task.inputs()});
      for (int32_t e = b.begin[r]; e < b.begin[r + 1]; ++e) row[b.input[e]] = b.value[e];
      auto f = dense_target(task, row.unsqueeze(0))[0];
      for (int i = 0; i < task.features; ++i) EXPECT_EQ(b.target[r * kOutputPad + i], f[i].item<float>());
      rows.push_back(row.unsqueeze(0).expand({static_cast<int64_t>(b.weight[r]), task.inputs()}));
      total += b.weight[r];
    }
    EXPECT_EQ(total, 3000.f);
    auto key = [](torch::Tensor m) {  // rows sorted lexicographically
      std::vector<std::vector<float>> v;
      for (int64_t i = 0; i < m.size(0); ++i) v.emplace_back(m[i].data_ptr<float>(), m[i].data_ptr<float>() + m.size(1));
      std::sort(v.begin(), v.end());
      return v;
    };
    EXPECT_EQ(key(torch::cat(rows).contiguous()), key(to_dense(task, raw)));
    if (task.kind == TaskKind::Xor) {
      EXPECT_LT(b.distinct(), 1000);  // binary rows repeat
    }
  }
}

TEST(ToyModel, PackUnpackRoundTrip) {
  auto m = init_model(12, 10, 6, true, 1);
  auto layout = PaddedLayout::for_inputs(12);
  std::vector<float> row(layout.size, -1.f);
  pack(m, layout, row.data());
  auto back = unpack(layout, row.data(), 12, 10, 6);
  EXPECT_TRUE(torch::equal(m.w1, back.w1));
  EXPECT_TRUE(torch::equal(m.b1, back.b1));
  EXPECT_TRUE(torch::equal(m.w2, back.w2));
  EXPECT_TRUE(torch::equal(m.b2, back.b2));
  // nn.Linear's bounds: 1/sqrt(fan_in).
  EXPECT_LE(m.w1.abs().max().item<float>(), 1 / std::sqrt(12.f));
  EXPECT_LE(m.w2.abs().max().item<float>(), 1 / std::sqrt(10.f));
  EXPECT_TRUE(torch::equal(init_model(6, 4, 6, false, 3).b1, torch::zeros({4})));
  // --init-scale multiplies the bounds: the same draws, scaled.
  auto wide = init_model(12, 10, 6, true, 1, 3.0);
  EXPECT_TRUE(torch::allclose(wide.w1, 3 * m.w1, 1e-6, 1e-7));
  EXPECT_TRUE(torch::allclose(wide.b2, 3 * m.b2, 1e-6, 1e-7));
}

TEST(ToyTrainer, BadConfigurationsAreRefused) {
  using tension::testing::error_of;
  EXPECT_NE(error_of([] { ToyTask::named("sin"); }).find("abs or xor"), std::string::npos);
  auto c = small("abs");
  c.hidden = 17;
  EXPECT_NE(error_of([&] { train_restarts(c); }).find("hidden width"), std::string::npos);
  c = small("abs");
  c.task.p_on = 0;
  EXPECT_NE(error_of([&] { train_restarts(c); }).find("probability"), std::string::npos);
  c = small("abs");
  c.task.features = 9;
  EXPECT_NE(error_of([&] { train_restarts(c); }).find("features"), std::string::npos);
}
