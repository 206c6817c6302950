// The trials of the human experiment (paper App B): the selection rules on hand-made candidates with known
// answers, and whole bundles built by `tension trials build` re-checked by tests/python/check_trials.py, which
// recomputes every activation of the hand-built network of tests/python/fixture_trials.py with hooks.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "tension/core/moments.h"
#include "tension/feature/feature.h"
#include "tension/trials/bundle.h"
#include "tension/trials/trial_select.h"
#include "testing.h"

using namespace tension;
using tension::testing::error_of;
using tension::testing::run_command;
using tension::testing::source_dir;
using tension::testing::temp_dir;
using tension::testing::testdata;
namespace fs = std::filesystem;

namespace {

// Feature candidates over images 0..n-1, each image's extreme crop at (image % 3, 0): image i has activation
// 100 - i at its best crop and -i at its worst; distractors are crops at (2, 2) of images 100..100+d.
trials::FeatureCandidates candidates(int64_t feature, int64_t n, int64_t distractors) {
  trials::FeatureCandidates f;
  f.feature = feature;
  f.mean = 0;
  f.sd = 1;
  for (int64_t i = 0; i < n; ++i) {
    f.top.push_back({i, i % 3, 0, 100.0 - i, 1});
    f.bottom.push_back({n - 1 - i, (n - 1 - i) % 3, 1, -100.0 + i, 1});
  }
  for (int64_t i = 0; i < distractors; ++i) f.distractors.push_back({100 + i, 2, 2, 0.5, 5});
  return f;
}

std::set<int64_t> images_of(const std::vector<trials::Candidate>& cs) {
  std::set<int64_t> s;
  for (const auto& c : cs) s.insert(c.image);
  return s;
}

std::string bundle_check(const std::string& bundle, const std::string& extra = "") {
  std::string out;
  const int rc = run_command("/usr/bin/python3 " + source_dir("tests/python/check_trials.py") + " " + bundle + " " +
                                 extra,
                             &out);
  return rc == 0 ? "" : out;
}

// `tension trials build` on the hand-built network; `options` replace the defaults of this test.
std::string hand_built_build(const std::string& dir, const std::string& options = "-n 4 --kmeans-k 20") {
  std::string out;
  const std::string cmd = tension::testing::cli_binary() + " trials build " + testdata("trials/net.pt") + " " +
                          testdata("trials/shapes-images-idx3-ubyte") +
                          " --input-size 12 --channels 1 --layers relu1,relu2 --crop-side 24 --out " + dir + " " +
                          options;
  return run_command(cmd, &out) == 0 ? "" : out;
}

}  // namespace

TEST(TrialSelect, TakesTheRanksTheArgminAndTheFirstDistractors) {
  auto t = trials::select_trials("L", {candidates(7, 20, 9)});
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].feature, 7);
  EXPECT_EQ(t[0].mei.image, 0) << "the argmax";
  ASSERT_EQ(t[0].examples.size(), 6u);
  for (int64_t r = 0; r < 6; ++r) EXPECT_EQ(t[0].examples[r].image, r + 1) << "ranks 2-7";
  EXPECT_EQ(t[0].mii.image, 19) << "the argmin";
  ASSERT_EQ(t[0].distractors.size(), 7u);
  for (int64_t d = 0; d < 7; ++d) EXPECT_EQ(t[0].distractors[d].image, 100 + d) << "in the pool's (seeded) order";
}

TEST(TrialSelect, AnImageKeepsOnePositionAcrossTheLayer) {
  auto a = candidates(0, 20, 9);
  auto b = candidates(1, 20, 16);
  // Feature b's best image is a's best image at another position: b's target becomes its next image.
  b.top[0].row = 2;
  auto t = trials::select_trials("L", {a, b});
  EXPECT_EQ(t[1].mei.image, 1);
  // Its distractors skip the crops a used as foils; a's MII (image 19 at (1, 1)) is not b's MII.
  EXPECT_EQ(images_of(t[1].distractors), (std::set<int64_t>{107, 108, 109, 110, 111, 112, 113}));
  EXPECT_NE(t[1].mii.image, t[0].mii.image);
  // The same image at the same position may be an MEI of both.
  auto c = candidates(2, 20, 16);
  auto u = trials::select_trials("L", {a, c});
  EXPECT_EQ(u[1].mei.image, 0);
}

TEST(TrialSelect, ATrialShowsAnImageOnce) {
  auto a = candidates(0, 20, 9);
  // The argmin's image is also the best MEI's: the MII moves to the next lowest image.
  a.bottom[0] = {0, 0, 1, -200, 1};
  auto t = trials::select_trials("L", {a});
  EXPECT_EQ(t[0].mei.image, 0);
  EXPECT_NE(t[0].mii.image, 0);
  a.distractors[0].image = 3;  // an example's image
  t = trials::select_trials("L", {a});
  EXPECT_FALSE(images_of(t[0].distractors).count(3));
}

TEST(TrialSelect, NamesTheRuleThatCannotBeMet) {
  EXPECT_NE(error_of([] { trials::select_trials("L", {candidates(0, 6, 9)}); }).find("6 example MEIs"),
            std::string::npos);
  const auto msg = error_of([] { trials::select_trials("mixed4a", {candidates(0, 20, 9), candidates(3, 20, 9)}); });
  EXPECT_NE(msg.find("layer mixed4a, feature 1 (centroid 3): only 2 of 7 distractors"), std::string::npos) << msg;
  EXPECT_NE(msg.find("within 2 sd of the mean"), std::string::npos) << msg;
}

TEST(TrialSelect, ChunkedMomentsEqualTheWholeList) {
  std::vector<double> all;
  MomentsAccumulator acc;
  for (int chunk = 0; chunk < 5; ++chunk) {
    std::vector<double> v;
    for (int i = 0; i < 3 + chunk; ++i) v.push_back(1e3 + chunk * 0.37 + i * i * 0.11);
    double mean = 0, m2 = 0;
    for (double x : v) mean += x / v.size();
    for (double x : v) m2 += (x - mean) * (x - mean);
    acc.add(v.size(), mean, m2);
    all.insert(all.end(), v.begin(), v.end());
  }
  const auto want = moments(all), got = acc.moments();
  EXPECT_NEAR(got.mean, want.mean, 1e-9);
  EXPECT_NEAR(got.sd, want.sd, 1e-9);
}

TEST(TrialSelect, DotCosOfManyDirectionsIsEachDirectionsReadout) {
  torch::manual_seed(0);
  auto act = torch::randn({3, 5});
  auto dirs = torch::randn({4, 5});
  auto all = feature::dot_cos(act, dirs, 2);
  for (int64_t k = 0; k < 4; ++k) {
    feature::Feature f;
    f.direction = dirs[k];
    f.cos_power = 2;
    auto h = act;
    auto dot = h.matmul(dirs[k]);
    auto want = dot * (dot / (h.norm(2, 1) * dirs[k].norm())).pow(2);  // eq. 5, written out
    EXPECT_TRUE(torch::allclose(all.select(1, k), want, 1e-5, 1e-6)) << k;
    EXPECT_TRUE(torch::allclose(feature::read_feature(f, act), want, 1e-5, 1e-6)) << k;
  }
}

TEST(TrialsBuild, HandBuiltNetworkAgreesWithPython) {
  const std::string dir = temp_dir("trials_hand");
  ASSERT_EQ(hand_built_build(dir), "");
  const auto b = trials::read_bundle(dir);
  ASSERT_EQ(b.layers.size(), 2u);
  EXPECT_EQ(b.layers[0].tap, "relu1:in") << "pre-ReLU";
  EXPECT_EQ(b.trials.size(), 8u);
  EXPECT_EQ(bundle_check(dir, "--model " + testdata("trials/net.pt") + " --images " +
                                  testdata("trials/shapes-images-idx3-ubyte")),
            "");
  EXPECT_TRUE(fs::file_size(dir + "/fig9_relu1.png") > 1000);
  // The check can fail: a bundle whose MII is swapped with a distractor breaks it.
  const std::string broken = temp_dir("trials_hand_broken");
  fs::copy(dir, broken, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  auto doc = nlohmann::json::parse(std::ifstream(broken + "/trials.json"));
  auto& t0 = doc["trials"][0];
  t0["mii"] = (t0["mii"].get<int>() + (t0["mei"].get<int>() == (t0["mii"].get<int>() + 1) % 9 ? 2 : 1)) % 9;
  std::ofstream(broken + "/trials.json") << doc.dump();
  EXPECT_NE(bundle_check(broken), "");
  // Crop names say nothing of their role: not in the order of any trial's choices.
  std::set<std::string> ids;
  for (const auto& c : b.crops) ids.insert(c.id);
  EXPECT_EQ(ids.size(), b.crops.size());

  // The seed makes the bundle: the same seed, the same trials.json; another seed, other choices.
  const std::string again = temp_dir("trials_hand_again"), other = temp_dir("trials_hand_other");
  ASSERT_EQ(hand_built_build(again), "");
  ASSERT_EQ(hand_built_build(other, "-n 4 --kmeans-k 20 --seed 1"), "");
  auto text = [](const std::string& f) {
    std::ifstream in(f);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  EXPECT_EQ(text(dir + "/trials.json"), text(again + "/trials.json"));
  EXPECT_NE(text(dir + "/trials.json"), text(other + "/trials.json"));
}

TEST(TrialsBuild, BadInputFailsWithTheReason) {
  const std::string dir = temp_dir("trials_bad");
  auto err = hand_built_build(dir, "-n 4 --kmeans-k 20 --limit 12");
  EXPECT_NE(err.find("n <= k <= the 12 images"), std::string::npos) << err;
  // 6 trials need 48 crops as MIIs and distractors, one position per image: 25 images cannot give them.
  err = hand_built_build(dir, "--kmeans-k 20 --limit 25 -n 6");
  EXPECT_NE(err.find("the dataset is too small"), std::string::npos) << err;
  err = hand_built_build(dir, "-n 4 --kmeans-k 500");
  EXPECT_NE(err.find("n <= k <= the 160 images"), std::string::npos) << err;
  std::string out;
  run_command(tension::testing::cli_binary() + " trials build " + testdata("trials/net.pt") + " " +
                  testdata("trials/shapes-images-idx3-ubyte") + " --input-size 12 --channels 1 --layers relu7 --out " +
                  dir,
              &out);
  EXPECT_NE(out.find("unknown layer 'relu7'"), std::string::npos) << out;
}

TEST(TrialsBuild, DemoBundleKeepsEveryRule) {
  // The demo's bundle: 15 k-means features (k = 1000) for an early, a middle and a late layer of fmnist-cnn.
  const std::string dir = temp_dir("trials_demo");
  std::string out;
  ASSERT_EQ(run_command(tension::testing::cli_binary() + " trials build fmnist-cnn fashion-mnist --layers "
                                                         "relu1,relu2,relu3 --out " + dir,
                        &out),
            0)
      << out;
  EXPECT_EQ(trials::read_bundle(dir).trials.size(), 45u);
  EXPECT_EQ(bundle_check(dir), "");
}
