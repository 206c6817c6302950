// Eq. 1-3 and the norms on hand-computed cases.
#include <gtest/gtest.h>

#include "tension/attribution/terms.h"

using namespace tension::attribution;

TEST(AttributionTerms, TotalsOfAHandBuiltTensor) {
  // One sample, 2 channels, 1x2 positions: S = [[1, -2], [3, 4]] (channel-major).
  auto s = torch::tensor({1.f, -2.f, 3.f, 4.f}).view({1, 2, 1, 2});
  auto t = attribution_totals(s);
  EXPECT_FLOAT_EQ(t.e.item<float>(), 6.f);
  EXPECT_FLOAT_EQ(t.e_pos.item<float>(), 8.f);
  EXPECT_FLOAT_EQ(t.e_neg.item<float>(), 2.f);
  EXPECT_FLOAT_EQ(t.l1.item<float>(), 10.f);
  EXPECT_FLOAT_EQ(t.l2.item<float>(), std::sqrt(30.f));
  // Position 0 holds (1, 3), position 1 holds (-2, 4).
  EXPECT_FLOAT_EQ(t.l21.item<float>(), std::sqrt(10.f) + std::sqrt(20.f));
  auto [pos, neg] = phi_maps(s);
  EXPECT_TRUE(torch::equal(pos, torch::tensor({4.f, 4.f}).view({1, 1, 2})));
  EXPECT_TRUE(torch::equal(neg, torch::tensor({0.f, 2.f}).view({1, 1, 2})));
  // E+ and E- are the phi maps summed over positions, and E = E+ - E-.
  EXPECT_FLOAT_EQ(pos.sum().item<float>(), t.e_pos.item<float>());
  EXPECT_FLOAT_EQ(neg.sum().item<float>(), t.e_neg.item<float>());
}

TEST(AttributionTerms, GradTimesActivationOfALinearFunctionIsComplete) {
  // f(h) = w . h is linear: sum(S) = f exactly (the completeness the paper relies on, §2).
  auto gen = at::detail::createCPUGenerator(5);
  auto h = torch::rand({3, 7}, gen).requires_grad_(true);
  auto w = torch::randn({7}, gen);
  auto f = (h * w).sum(1);
  auto grad = torch::autograd::grad({f.sum()}, {h})[0];
  auto t = attribution_totals(layer_attribution(grad, h.detach()));
  EXPECT_TRUE(torch::allclose(t.e, f.detach(), 1e-6, 1e-6));
  EXPECT_TRUE(torch::allclose(t.l21, t.l2));
}

TEST(AttributionTerms, ShapeMismatchIsAnError) {
  EXPECT_ANY_THROW(layer_attribution(torch::zeros({2, 3}), torch::zeros({3, 2})));
  EXPECT_ANY_THROW(attribution_totals(torch::zeros({2, 3, 4})));
  EXPECT_ANY_THROW(phi_maps(torch::zeros({2, 3})));
}
