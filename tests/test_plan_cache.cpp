// The attributor's plan from the cache and from the run store: the same stores as a fresh plan, never reused
// for another input size, weights file or taps, a corrupt entry rebuilt, a resumed pass on its stored plan.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tension/attribution/attributor.h"
#include "tension/core/manifest.h"
#include "tension/model/model_source.h"
#include "tension/store/attribute_run.h"
#include "tension/store/run_store.h"
#include "testing.h"

using namespace tension;
using tension::testing::temp_dir;
using tension::testing::testdata;

namespace {

// 20 units of torchvision googlenet's inception3b on inception3a: the plan has footprints, an input crop and
// layer windows.
store::AttributeOptions googlenet_run(const std::string& cache, int64_t size = 224) {
  store::AttributeOptions a;
  a.model.spec = testdata("ts_googlenet_traced.pt");
  a.model.input_size = size;
  a.data = testdata("data/folder");
  for (int u = 0; u < 20; ++u) a.features.push_back("inception3b:" + std::to_string(u));
  a.layers = {"inception3a"};
  a.pass.batch_size = 4;
  a.plan_cache = cache;
  return a;
}

nlohmann::json run_attribute(const store::AttributeOptions& a, const std::string& dir) {
  RunManifest run(dir, "attribute", {});
  store::attribute_run(a, run);
  return nlohmann::json::parse(std::ifstream(dir + "/run.json"));
}

void expect_same_store(const std::string& a, const std::string& b) {
  auto x = store::RunStore::open(a)->attributions(true);
  auto y = store::RunStore::open(b)->attributions(true);
  ASSERT_EQ(x.size(), y.size());
  ASSERT_GT(x.size(), 0u);
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(x[i].image, y[i].image);
    EXPECT_EQ(x[i].fv, y[i].fv) << i;
    EXPECT_EQ(x[i].e_pos, y[i].e_pos) << i;
    EXPECT_EQ(x[i].e_neg, y[i].e_neg) << i;
    EXPECT_EQ(x[i].l21, y[i].l21) << i;
    EXPECT_EQ(x[i].phi_pos, y[i].phi_pos) << i;
    EXPECT_EQ(x[i].phi_neg, y[i].phi_neg) << i;
  }
}

size_t entries(const std::string& cache) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(cache + "/plans")) n += e.path().extension() == ".json";
  return n;
}

}  // namespace

TEST(PlanCache, CachedPlanGivesTheStoreAFreshPlanGives) {
  const auto cache = temp_dir("plan_cache/cache");
  const auto fresh_dir = temp_dir("plan_cache/fresh"), cached_dir = temp_dir("plan_cache/cached");
  const auto none_dir = temp_dir("plan_cache/none");
  auto fresh = run_attribute(googlenet_run(cache), fresh_dir);
  EXPECT_EQ(fresh["plan"]["source"], "planned");
  // The plan uses every speed-up, so the comparison covers them.
  EXPECT_GT(fresh["plan"]["input_crop"][2].get<int64_t>(), 0);
  EXPECT_GE(fresh["plan"]["layer_windows_margin"].get<int>(), 0);
  EXPECT_EQ(entries(cache), 1u);
  auto cached = run_attribute(googlenet_run(cache), cached_dir);
  EXPECT_EQ(cached["plan"]["source"], "cache");
  expect_same_store(fresh_dir, cached_dir);
  // Without any cache: planned again, the same store.
  auto none = run_attribute(googlenet_run(""), none_dir);
  EXPECT_EQ(none["plan"]["source"], "planned");
  expect_same_store(fresh_dir, none_dir);
}

namespace {

attribution::AttributorOptions unit_options(const std::string& cache, const std::string& layer) {
  attribution::AttributorOptions ao;
  for (int u = 0; u < 4; ++u) ao.features.push_back(feature::parse_feature("inception3b:" + std::to_string(u)));
  ao.layers = {layer};
  ao.plan_cache = cache;
  return ao;
}

std::unique_ptr<model::Model> googlenet(const std::string& file, int64_t size) {
  model::ModelSource src;
  src.spec = testdata(file);
  src.input_size = size;
  return model::load_model(src);
}

}  // namespace

TEST(PlanCache, APlanIsNeverReusedForAnotherInputSizeWeightsFileOrTaps) {
  const auto cache = temp_dir("plan_cache/keys");
  auto m = googlenet("ts_googlenet_traced.pt", 224);
  EXPECT_EQ(attribution::Attributor(*m, unit_options(cache, "inception3a")).plan_source(),
            attribution::PlanSource::planned);
  EXPECT_EQ(attribution::Attributor(*m, unit_options(cache, "inception3a")).plan_source(),
            attribution::PlanSource::cache);
  // Another input size, another weights file (the scripted export of the same network), other taps.
  auto small = googlenet("ts_googlenet_traced.pt", 160);
  EXPECT_EQ(attribution::Attributor(*small, unit_options(cache, "inception3a")).plan_source(),
            attribution::PlanSource::planned);
  auto scripted = googlenet("ts_googlenet_scripted.pt", 224);
  EXPECT_EQ(attribution::Attributor(*scripted, unit_options(cache, "inception3a")).plan_source(),
            attribution::PlanSource::planned);
  EXPECT_EQ(attribution::Attributor(*m, unit_options(cache, "maxpool3:in")).plan_source(),
            attribution::PlanSource::planned);
  auto unchecked = unit_options(cache, "inception3a");
  unchecked.verify = false;
  attribution::Attributor a(*m, unchecked);
  EXPECT_EQ(a.plan_source(), attribution::PlanSource::planned);
  EXPECT_FALSE(a.plan().verified);
  EXPECT_EQ(entries(cache), 5u);
}

TEST(PlanCache, ACorruptEntryIsRebuilt) {
  const auto cache = temp_dir("plan_cache/corrupt");
  auto m = googlenet("ts_googlenet_traced.pt", 224);
  attribution::Attributor first(*m, unit_options(cache, "inception3a"));
  ASSERT_EQ(entries(cache), 1u);
  const auto entry = std::filesystem::directory_iterator(cache + "/plans")->path();
  for (const char* bad : {"{\"format\": 1, \"footprints\": [[[1, 2", "[]", "{\"format\": 99}"}) {
    std::ofstream(entry) << bad;
    attribution::Attributor again(*m, unit_options(cache, "inception3a"));
    EXPECT_EQ(again.plan_source(), attribution::PlanSource::planned) << bad;
    EXPECT_EQ(nlohmann::json(again.plan()), nlohmann::json(first.plan()));
  }
  EXPECT_EQ(attribution::Attributor(*m, unit_options(cache, "inception3a")).plan_source(),
            attribution::PlanSource::cache);
}

// A pass that stopped after 4 images (its later rows removed, as a kill leaves them) goes on with the plan it
// stored, to the store of one whole pass; that the stored plan is the one used shows where it is changed.
TEST(PlanCache, AResumedPassUsesItsStoredPlan) {
  const auto whole_dir = temp_dir("plan_cache/whole"), resumed_dir = temp_dir("plan_cache/resumed");
  run_attribute(googlenet_run(""), whole_dir);
  run_attribute(googlenet_run(""), resumed_dir);
  const std::string db = store::RunStore::db_path(resumed_dir);
  ASSERT_EQ(tension::testing::run_command("/usr/bin/python3 -c \"import sqlite3; c = sqlite3.connect('" + db +
                                              "'); c.execute('DELETE FROM attributions WHERE image >= 4'); "
                                              "c.execute('DELETE FROM images WHERE idx >= 4'); c.commit()\""),
            0);
  auto resumed = run_attribute(googlenet_run(""), resumed_dir);
  EXPECT_EQ(resumed["plan"]["source"], "store");
  EXPECT_EQ(resumed["results"]["already_stored"], 4);
  expect_same_store(whole_dir, resumed_dir);

  // A stored plan without layer windows is followed (a fresh plan would use them).
  {
    auto st = store::RunStore::open(resumed_dir);
    auto plan = st->meta("plan");
    ASSERT_GE(plan["suffix_margin"].get<int>(), 0);
    plan["suffix_margin"] = -1;
    st->set_meta("plan", plan);
  }
  auto followed = run_attribute(googlenet_run(""), resumed_dir);
  EXPECT_EQ(followed["plan"]["source"], "store");
  EXPECT_EQ(followed["plan"]["layer_windows_margin"], -1);
}
