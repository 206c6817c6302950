// Weight-sign statistics against direct counts on a model whose weights are set by hand.
#include <gtest/gtest.h>

#include "tension/analysis/weight_signs.h"
#include "tension/model/zoo/zoo.h"

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

// Fig. 12 is about the share of negative weights: the histogram divides by the sd only, so its mass below 0 is
// that share. Centring would put about half of an all-positive layer below 0.
TEST(WeightSigns, HistogramKeepsTheSignOfEveryWeight) {
  model::ZooOptions zo;
  zo.seed = 4;
  auto m = model::make_zoo_model("toy-mlp", zo);
  for (auto& [name, p] : m->named_parameters()) {
    if (p.dim() >= 2) p.abs_().add_(0.01);
  }
  const int bins = 80;
  const double range = 40.0;  // wide enough for every w / sd of a layer that is not centred
  auto s = analysis::weight_signs(*m, bins, range);
  EXPECT_EQ(s.fraction_negative, 0.0);
  double below = 0, above = 0;
  for (int b = 0; b < bins; ++b) (s.bin_centres[b] < 0 ? below : above) += s.density[b] * 2 * range / bins;
  EXPECT_EQ(below, 0.0) << "an all-positive model has no mass below 0";
  EXPECT_NEAR(above, 1.0, 1e-9);
}
