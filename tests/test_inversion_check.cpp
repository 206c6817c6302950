// The App. F inversion check (analysis/inversion_check.h) on the default model with a tiny protocol: the curves' f_v
// and f_v / sd against plain forward passes, resumption, batching against one pair alone, and the summary against
// the curves; `tension inversion-check` end to end.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "tension/attribution/attributor.h"
#include "tension/data/dataset.h"
#include "tension/data/preprocess.h"
#include "tension/model/registry.h"
#include "tension/analysis/inversion_check.h"
#include "tension/viz/spectrum.h"
#include "testing.h"

using namespace tension;
using tension::testing::read_csv;
namespace fs = std::filesystem;
namespace tt = tension::testing;

namespace {

constexpr int64_t kSteps = 4, kCanvas = 32;
constexpr size_t kSearch = 60;
constexpr uint64_t kSeed = 3;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

analysis::InversionCheckOptions tiny_options() {
  analysis::InversionCheckOptions o;
  o.layers = {"conv2", "conv3"};
  o.through = {"relu1", "pool1"};
  o.units = 2;
  o.mtis = 2;
  o.search_images = kSearch;
  o.canvas = kCanvas;
  o.spectrum = viz::one_over_f(kCanvas).unsqueeze(0).contiguous();
  o.batch = 4;
  o.seed = kSeed;
  o.progress = false;
  o.optimize.steps = kSteps;
  o.optimize.transforms.count = 2;
  return o;
}

class InversionCheck : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = model::load_model("fmnist-cnn").release();
    data_ = data::open_dataset("fashion-mnist:test").release();
    // The folder is this process's own: ctest -j runs each test in a process of its own, and one must not remake
    // the run while another reads it.
    full_ = tt::temp_dir("inversion_check_full_" + std::to_string(getpid()));
    auto res = analysis::inversion_check(*model_, *data_, tiny_options(), full_);
    ASSERT_TRUE(res.complete);
    ASSERT_EQ(res.pairs_rendered, 8u);
  }
  static void TearDownTestSuite() {
    delete model_;
    delete data_;
  }
  // f_v of the feature LAYER:UNIT on dataset images, by a plain forward pass.
  static torch::Tensor plain_fv(const std::string& layer, int64_t unit, const std::vector<size_t>& images) {
    std::vector<torch::Tensor> xs;
    for (size_t i : images) xs.push_back(data::preprocess(data_->load(i), model_->input_spec()));
    auto f = feature::parse_feature(layer + ":" + std::to_string(unit));
    auto act = model_->run(torch::stack(xs), {feature::feature_tap(*model_, layer)}, {}).taps[0];
    return feature::read_feature(f, act).to(torch::kDouble);
  }
  static model::Model* model_;
  static data::Dataset* data_;
  static std::string full_;
};
model::Model* InversionCheck::model_ = nullptr;
data::Dataset* InversionCheck::data_ = nullptr;
std::string InversionCheck::full_;

// (a) Seeded from the MTI with pixels on a canvas of the input's size, step 0 renders the MTI itself: the curve
// starts at the MTI's f_v from a plain forward pass, as mtis.csv records it.
TEST_F(InversionCheck, StepZeroIsTheMtisValue) {
  auto dir = tt::temp_dir("inversion_check_mti");
  auto o = tiny_options();
  o.start = "mti";
  o.param = "pixel";
  o.canvas = 28;
  o.optimize.steps = 2;
  ASSERT_TRUE(analysis::inversion_check(*model_, *data_, o, dir).complete);
  int checked = 0;
  for (const auto& r : read_csv(dir + "/curves.csv")) {
    if (r[5] != "0") continue;
    double want = plain_fv(r[0], std::stoll(r[2]), {std::stoull(r[3])})[0].item<double>();
    EXPECT_NEAR(std::stod(r[6]), want, 1e-4 * std::max(1.0, std::abs(want))) << r[0] << ":" << r[2] << " #" << r[3];
    ++checked;
  }
  EXPECT_EQ(checked, 16);  // 2 layers x 2 units x 2 MTIs x 2 signs
  for (const auto& r : read_csv(dir + "/mtis.csv")) {
    double want = plain_fv(r[0], std::stoll(r[2]), {std::stoull(r[5])})[0].item<double>();
    EXPECT_NEAR(std::stod(r[6]), want, 1e-5 * std::max(1.0, std::abs(want)));
  }
}

// (b) fv_sd = fv / the unit's standard deviation over the searched images, computed here by a plain forward pass.
TEST_F(InversionCheck, FvSdIsInTheUnitsStandardDeviations) {
  std::vector<size_t> all(kSearch);
  for (size_t i = 0; i < kSearch; ++i) all[i] = i;
  std::map<std::pair<std::string, int64_t>, double> sd;
  for (const auto& r : read_csv(full_ + "/curves.csv")) {
    auto key = std::make_pair(r[0], std::stoll(r[2]));
    if (!sd.count(key)) sd[key] = plain_fv(key.first, key.second, all).std().item<double>();
    const double fv = std::stod(r[6]);
    EXPECT_NEAR(std::stod(r[7]), fv / sd[key], 1e-5 * std::max(1.0, std::abs(fv / sd[key])));
  }
  EXPECT_EQ(sd.size(), 4u);
}

// (c) Interrupted twice, once in the middle of a write, the check resumes to the same curves.csv as one
// uninterrupted run, each (layer, unit, MTI, sign, step) once.
TEST_F(InversionCheck, ResumesToTheUninterruptedResult) {
  auto dir = tt::temp_dir("inversion_check_resume");
  auto o = tiny_options();
  o.max_batches = 1;
  auto first = analysis::inversion_check(*model_, *data_, o, dir);
  EXPECT_FALSE(first.complete);
  EXPECT_EQ(first.pairs_rendered, 2u);
  // A kill while the next batch's rows were being written: a row cut short.
  const auto path = dir + "/curves.csv";
  fs::resize_file(path, fs::file_size(path) - 7);
  o.max_batches = 2;
  auto second = analysis::inversion_check(*model_, *data_, o, dir);
  EXPECT_FALSE(second.complete);
  EXPECT_EQ(second.pairs_done_before, 1u);
  EXPECT_EQ(second.pairs_rendered, 3u);  // the cut pair, then the next batch
  o.max_batches = 0;
  auto third = analysis::inversion_check(*model_, *data_, o, dir);
  EXPECT_TRUE(third.complete);
  EXPECT_EQ(third.pairs_done_before, 4u);
  EXPECT_EQ(third.pairs_rendered, 4u);
  EXPECT_EQ(slurp(path), slurp(full_ + "/curves.csv"));
  std::set<std::string> keys;
  for (const auto& r : read_csv(path)) EXPECT_TRUE(keys.insert(r[0] + r[2] + "#" + r[3] + r[4] + r[5]).second);
  EXPECT_EQ(keys.size(), 8u * 2 * kSteps);
  // A finished check is not redone; other options are refused.
  EXPECT_EQ(analysis::inversion_check(*model_, *data_, o, dir).pairs_rendered, 0u);
  o.units = 3;
  EXPECT_NE(tt::error_of([&] { analysis::inversion_check(*model_, *data_, o, dir); }).find("other options"),
            std::string::npos);
}

// (d) A pair in a batch of others gives what it gives alone, computed without the check and its speed-ups: its own
// attribution (no input crop, no layer windows), one image per sign, the same start and transformation draws.
TEST_F(InversionCheck, BatchedEqualsOnePairAlone) {
  const auto o = tiny_options();
  std::map<std::tuple<std::string, int64_t, int64_t>, size_t> rank;
  for (const auto& r : read_csv(full_ + "/mtis.csv")) {
    rank[{r[0], std::stoll(r[2]), std::stoll(r[5])}] = std::stoull(r[4]);
  }
  auto rows = read_csv(full_ + "/curves.csv");
  const auto& last = rows.back();  // the last pair of conv3, in the layer's second batch
  ASSERT_EQ(last[0], "conv3");
  const int64_t unit = std::stoll(last[2]), image = std::stoll(last[3]);
  auto f = feature::parse_feature("conv3:" + std::to_string(unit));
  attribution::AttributorOptions ao;
  ao.features = {f};
  ao.layers = {"pool1"};
  ao.keep_s = true;
  ao.crop_input = false;
  ao.layer_windows = false;
  ao.footprint.seed = kSeed;
  attribution::Attributor attributor(*model_, ao);
  auto x = data::preprocess(data_->load(static_cast<size_t>(image)), model_->input_spec()).unsqueeze(0);
  auto attr = viz::attributions_per_feature(attributor, x).front();
  for (int side = 0; side < 2; ++side) {
    viz::ImageOptions io{1, 1, kCanvas};
    io.item_seeds = {analysis::inversion_start_seed(kSeed, 1, unit, rank.at({"conv3", unit, image}))};
    auto param = viz::make_parameterization("maco", io, o.spectrum);
    auto obj = viz::target_objective(*model_, f, side == 0 ? viz::Target::SPos : viz::Target::SNeg, &attr, 1, 0);
    auto ro = o.optimize;
    ro.seed = analysis::inversion_draws_seed(kSeed, 1);
    ro.monitor = {f};
    ro.crop_input = false;
    ro.progress = false;
    auto alone = viz::optimize(*model_, *param, {obj}, ro);
    const char* sign = side == 0 ? "s+" : "s-";
    int checked = 0;
    for (const auto& r : rows) {
      if (r[0] != "conv3" || std::stoll(r[2]) != unit || std::stoll(r[3]) != image || r[4] != sign) continue;
      const double want = alone.curve[std::stoul(r[5])].fv[0].item<double>();
      EXPECT_NEAR(std::stod(r[6]), want, 1e-4 * std::max(1.0, std::abs(want))) << sign << " step " << r[5];
      ++checked;
    }
    EXPECT_EQ(checked, kSteps);
  }
}

// (e) summary.csv and summary.json: the fractions of pairs whose S+ ends above its start, S- below, and both,
// recomputed from curves.csv.
TEST_F(InversionCheck, SummaryFollowsFromTheCurves) {
  std::map<std::string, std::map<std::string, std::pair<double, double>>> ends[2];  // [sign][layer][pair]: start, end
  for (const auto& r : read_csv(full_ + "/curves.csv")) {
    auto& e = ends[r[4] == "s+" ? 0 : 1][r[0]][r[2] + "#" + r[3]];
    if (r[5] == "0") e.first = std::stod(r[6]);
    if (std::stoll(r[5]) == kSteps - 1) e.second = std::stod(r[6]);
  }
  std::string header;
  auto summary = read_csv(full_ + "/summary.csv", &header);
  EXPECT_EQ(header,
            "layer,through,units,pairs,s_pos_raised,s_neg_lowered,both,s_pos_median_end_sd,s_neg_median_end_sd");
  ASSERT_EQ(summary.size(), 2u);
  auto js = nlohmann::json::parse(std::ifstream(full_ + "/summary.json"));
  for (size_t l = 0; l < summary.size(); ++l) {
    const auto& s = summary[l];
    double raised = 0, lowered = 0, both = 0;
    const auto& pos = ends[0][s[0]];
    for (const auto& [pair, e] : pos) {
      const auto& n = ends[1][s[0]].at(pair);
      raised += e.second > e.first;
      lowered += n.second < n.first;
      both += e.second > e.first && n.second < n.first;
    }
    const double pairs = static_cast<double>(pos.size());
    EXPECT_EQ(std::stoul(s[3]), pos.size());
    EXPECT_NEAR(std::stod(s[4]), raised / pairs, 1e-6);
    EXPECT_NEAR(std::stod(s[5]), lowered / pairs, 1e-6);
    EXPECT_NEAR(std::stod(s[6]), both / pairs, 1e-6);
    EXPECT_EQ(js[l]["layer"], s[0]);
    EXPECT_NEAR(js[l]["s_pos_raised"].get<double>(), raised / pairs, 1e-12);
    EXPECT_NEAR(js[l]["s_neg_lowered"].get<double>(), lowered / pairs, 1e-12);
  }
  for (const char* f : {"fig14.png", "fig14.svg", "fig14.gp", "fig14.dat", "protocol.json"}) {
    EXPECT_TRUE(fs::exists(full_ + "/" + f)) << f;
  }
}

// The default through-layers: the layer listed before, and the input for the first.
TEST_F(InversionCheck, ThroughLayerDefaults) {
  EXPECT_EQ(analysis::through_layer(*model_, {"conv1", "conv3"}, {}, 0), "conv1:in");
  EXPECT_EQ(analysis::through_layer(*model_, {"conv1", "conv3"}, {}, 1), "conv1");
  EXPECT_EQ(analysis::through_layer(*model_, {"conv1", "conv3"}, {"conv1:in", "pool1"}, 1), "pool1");
}

// `tension inversion-check` end to end with the default through-layers (the first through the input), and bad input.
TEST(InversionCheckCli, WritesTheRunAndRefusesBadInput) {
  auto out = tt::temp_dir("inversion_check_cli");
  std::string log;
  const std::string base = tt::cli_binary() + " inversion-check fmnist-cnn fashion-mnist:test ";
  ASSERT_EQ(tt::run_command(base + "--layers conv1,conv2 --units 1 --mtis 1 --steps 2 --transforms 1 "
                                 "--search-images 40 --canvas 28 --out " + out, &log), 0) << log;
  for (const char* f : {"run.json", "curves.csv", "mtis.csv", "summary.csv", "summary.json", "fig14.png"}) {
    EXPECT_TRUE(fs::exists(out + "/" + f)) << f;
  }
  auto run = nlohmann::json::parse(std::ifstream(out + "/run.json"));
  EXPECT_EQ(run["status"], "ok");
  // The options as resolved: --steps and --transforms applied to the recipe, the rest its defaults.
  EXPECT_EQ(run["params"]["optimize"]["steps"], 2);
  EXPECT_EQ(run["params"]["optimize"]["transforms"]["count"], 1);
  EXPECT_EQ(run["params"]["optimize"]["lr"], 0.02);
  EXPECT_EQ(run["params"]["layers"], nlohmann::json({"conv1", "conv2"}));
  ASSERT_EQ(run["results"]["layers"].size(), 2u);
  EXPECT_EQ(run["results"]["layers"][0]["through"], "conv1:in");
  EXPECT_EQ(run["results"]["layers"][1]["through"], "conv1");
  EXPECT_EQ(read_csv(out + "/curves.csv").size(), 2u * 2 * 2);
  EXPECT_NE(tt::run_command(base + "--layers conv2,conv3 --through relu1 --out " + out + "-bad", &log), 0);
  EXPECT_NE(log.find("one through-layer per layer"), std::string::npos) << log;
  EXPECT_NE(tt::run_command(base + "--layers conv9 --out " + out + "-bad2", &log), 0);
  EXPECT_NE(log.find("conv9"), std::string::npos) << log;
}

}  // namespace
