// Weight-sign statistics against direct counts on a model whose weights are set by hand.
#include <gtest/gtest.h>

#include "tension/analysis/weight_signs.h"
#include "tension/model/zoo.h"

using namespace tension;

TEST(WeightSigns, CountsSignsPerLayerAndPooled) {
  model::ZooOptions zo;
  zo.seed = 9;
  auto m = model::make_zoo_model("toy-mlp", zo);
  ASSERT_NE(m, nullptr);
  int64_t neg = 0, total = 0;
  size_t kernels = 0;
  for (const auto& [name, p] : m->named_parameters()) {
    if (p.dim() < 2) continue;
    ++kernels;
    neg += (p < 0).sum().item<int64_t>();
    total += p.numel();
  }
  auto s = analysis::weight_signs(*m);
  EXPECT_EQ(s.layers.size(), kernels);  // biases are not kernels
  EXPECT_DOUBLE_EQ(s.fraction_negative, static_cast<double>(neg) / total);
  for (const auto& l : s.layers) {
    EXPECT_GT(l.fraction_negative, 0.2) << l.name;  // the default init is symmetric around 0
    EXPECT_LT(l.fraction_negative, 0.8) << l.name;
  }
}

TEST(WeightSigns, HistogramOfStandardisedWeightsIsADensity) {
  model::ZooOptions zo;
  auto m = model::make_zoo_model("fmnist-cnn", zo);
  // Set conv1's kernel to a known pattern: 3 negative values of 9 in every filter.
  for (auto& [name, p] : m->named_parameters()) {
    if (name == "conv1.weight") {
      auto pattern = torch::tensor({-3., -2., -1., 1., 2., 3., 4., 5., 6.}).view({1, 1, 3, 3});
      p.copy_(pattern.expand_as(p));
    }
  }
  auto s = analysis::weight_signs(*m, 40, 4.0);
  auto conv1 = std::find_if(s.layers.begin(), s.layers.end(), [](auto& l) { return l.name == "conv1.weight"; });
  ASSERT_NE(conv1, s.layers.end());
  EXPECT_DOUBLE_EQ(conv1->fraction_negative, 3.0 / 9);
  EXPECT_NEAR(conv1->mean, 15.0 / 9, 1e-12);
  double integral = 0;
  for (double d : s.density) integral += d * 0.2;
  EXPECT_NEAR(integral, 1.0, 0.01);  // almost every standardised weight lies within 4 sd
  EXPECT_NEAR(s.bin_centres.front(), -3.9, 1e-12);
}
