// Paper App. F, measured on the default model: inversions toward S+ raise the unit's value and inversions toward
// S- lower it. Ten random conv3 units, each attributed to pool1 on its MTI; all twenty inversions in one batch
// with the paper's recipe (MACO from noise, Adam lr 0.02, 121 steps, 16 transformation draws).
#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>

#include "tension/data/dataset.h"
#include "tension/data/preprocess.h"
#include "tension/model/registry.h"
#include "tension/analysis/mti_search.h"
#include "tension/viz/panels.h"
#include "tension/viz/spectrum.h"
#include "testing.h"

using namespace tension;

TEST(VizAppF, InversionsExciteAndInhibit) {
  auto m = model::load_model("fmnist-cnn");
  ASSERT_EQ(m->weights_id().rfind("random-init", 0), std::string::npos) << "the default weights are missing";
  auto ds = data::open_dataset("fashion-mnist:test");
  auto perm = torch::randperm(64, at::make_generator<at::CPUGeneratorImpl>(11), torch::kLong);
  attribution::AttributorOptions ao;
  for (int i = 0; i < 10; ++i) ao.features.push_back(feature::parse_feature("conv3:" + std::to_string(perm[i].item<int64_t>())));
  ao.layers = {"pool1"};
  attribution::Attributor search(*m, ao);
  auto mtis = analysis::find_mtis(search, *ds, 500);
  ao.keep_s = true;
  attribution::Attributor attributor(*m, ao);
  std::vector<torch::Tensor> xs;
  for (const auto& p : mtis) xs.push_back(data::preprocess(ds->load(p.index), m->input_spec()));
  auto attrs = viz::attributions_per_feature(attributor, torch::stack(xs));

  std::vector<viz::Panel> panels;
  for (size_t u = 0; u < 10; ++u) {
    for (auto t : {viz::Target::SPos, viz::Target::SNeg}) {
      viz::Panel p;
      p.feature = ao.features[u];
      p.target = t;
      p.attribution = attrs[u];
      panels.push_back(p);
    }
  }
  const int64_t canvas = viz::default_canvas(m->input_spec());
  viz::PanelOptions po;
  po.canvas = canvas;
  po.spectrum = viz::estimate_spectrum(*ds, viz::SpectrumOptions{canvas, 1, 500});
  po.attribution_optimize.progress = false;
  auto res = viz::optimize_panels(*m, panels, po);
  int raised = 0, lowered = 0;
  for (size_t u = 0; u < 10; ++u) {
    const auto &pos = res[2 * u], &neg = res[2 * u + 1];
    ASSERT_EQ(pos.fv.size(), 121u);
    raised += pos.fv.back() > pos.fv.front();
    lowered += neg.fv.back() < neg.fv.front();
    // The optimiser did its job on the objective itself.
    EXPECT_LT(pos.loss.back(), pos.loss.front());
    EXPECT_LT(neg.loss.back(), neg.loss.front());
    std::cout << ao.features[u].spec << ": S+ " << pos.fv.front() / mtis[u].sd << " -> " << pos.fv.back() / mtis[u].sd
              << " sd, S- " << neg.fv.front() / mtis[u].sd << " -> " << neg.fv.back() / mtis[u].sd << " sd\n";
  }
  std::cout << "S+ raised f_v for " << raised << "/10 units, S- lowered it for " << lowered << "/10\n";
  EXPECT_GE(raised, 9);
  EXPECT_GE(lowered, 9);
}
