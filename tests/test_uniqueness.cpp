// The uniqueness experiment (paper §6, eq. 6; App H): eq. 6 on hand-made sets, the ground truth of a hand-built
// network (tests/python/fixture_uniqueness.py: a "diagonal" channel that every feature's largest attributions
// share, while its MEIs are its own) against U computed in Python, the depth axis, the shared counts, the outputs,
// and the checks that run before any work.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "tension/analysis/uniqueness.h"
#include "tension/analysis/uniqueness_run.h"
#include "tension/core/error.h"
#include "testing.h"

using namespace tension;
using tension::testing::error_of;
using tension::testing::read_json;
using tension::testing::temp_dir;
using tension::testing::testdata;

namespace fs = std::filesystem;

namespace {

// Rows of a CSV without quoted fields, the header first.
std::vector<std::vector<std::string>> csv_rows(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> row;
    std::stringstream fields(line);
    for (std::string f; std::getline(fields, f, ',');) row.push_back(f);
    rows.push_back(row);
  }
  return rows;
}

analysis::UniquenessOptions ground_truth_options() {
  analysis::UniquenessOptions o;
  o.model.spec = testdata("uniqueness/diagonal.pt");
  o.model.input_size = 16;
  o.model.channels = 1;
  o.data = testdata("uniqueness/gt-images-idx3-ubyte");
  o.layers = {"relu2"};
  o.n = 15;
  o.m = 5;
  o.families = {"units"};
  o.selectors = {"mei", "l1", "l2"};
  o.shared_min = 15;
  o.view.canvas = 32;
  return o;
}

}  // namespace

TEST(Uniqueness, EquationSixOnHandMadeSets) {
  EXPECT_DOUBLE_EQ(analysis::uniqueness({{1, 2, 3}, {4, 5, 6}}, 3), 1.0) << "no image repeats: the upper bound";
  EXPECT_DOUBLE_EQ(analysis::uniqueness({{1, 2, 3}, {3, 2, 1}, {2, 1, 3}, {1, 3, 2}}, 3), 0.25)
      << "every feature the same m images: the lower bound 1/n, whatever the ranking";
  EXPECT_DOUBLE_EQ(analysis::uniqueness({{1, 2}, {2, 3}}, 2), 0.75);
  // n m counts every selection as m images, also one that came up short (fewer images passed its rule).
  EXPECT_DOUBLE_EQ(analysis::uniqueness({{1, 2, 3}, {4}}, 3), 4.0 / 6);
  EXPECT_DOUBLE_EQ(analysis::uniqueness({{7}}, 1), 1.0);
  EXPECT_NE(error_of([] { analysis::uniqueness({}, 3); }).find("at least one selection"), std::string::npos);
  EXPECT_NE(error_of([] { analysis::uniqueness({{1, 2, 3}}, 2); }).find("more than m = 2"), std::string::npos);
  EXPECT_NE(error_of([] { analysis::uniqueness({{1, 1}}, 2); }).find("twice"), std::string::npos);
  EXPECT_NE(error_of([] { analysis::uniqueness({{1}}, 0); }).find("m >= 1"), std::string::npos);
}

TEST(Uniqueness, SharedCountsCountSelectionsPerImage) {
  auto counts = analysis::selection_counts({{1, 2, 3}, {3, 2, 9}, {3, 4}});
  EXPECT_EQ(counts, (std::map<int64_t, int>{{1, 1}, {2, 2}, {3, 3}, {4, 1}, {9, 1}}));
  EXPECT_TRUE(analysis::selection_counts({}).empty());
}

// The hand-built network: MEIs unique to each feature (U = 1), largest attributions shared by all (U = 1/n); U
// equals the Python reference's, computed from its own selections.
TEST(Uniqueness, GroundTruthNetworkMatchesPython) {
  const auto expected = read_json(testdata("uniqueness/expected.json"));
  const std::string dir = temp_dir("uniqueness_gt");
  RunManifest run(dir, "uniqueness", {"test"});
  analysis::uniqueness_run(ground_truth_options(), run);

  const auto doc = read_json(dir + "/run.json");
  ASSERT_EQ(doc["status"], "ok") << doc.dump(1);
  const auto& layer = doc["results"]["layers"][0];
  EXPECT_EQ(layer["attribution_layer"], "relu1") << "relu2's preceding cut";
  EXPECT_DOUBLE_EQ(layer["depth"].get<double>(), 2.0 / 2) << "relu2 is the network's second and last ReLU";
  for (const char* sel : {"mei", "l1", "l2"}) {
    EXPECT_DOUBLE_EQ(layer["U"]["units"][sel].get<double>(), expected["U"][sel].get<double>()) << sel;
  }
  EXPECT_DOUBLE_EQ(layer["U"]["units"]["mei"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(layer["U"]["units"]["l1"].get<double>(), 1.0 / 15);

  // The images every feature shares: Python's, each counted 15 times, in shared.csv and run.json.
  std::set<int64_t> shared;
  for (const auto& s : layer["shared"]["units"]["l1"]) {
    EXPECT_EQ(s["count"], 15);
    shared.insert(s["image"].get<int64_t>());
  }
  const auto py_shared = expected["shared_by_all"].get<std::vector<int64_t>>();
  EXPECT_EQ(shared, std::set<int64_t>(py_shared.begin(), py_shared.end()));
  size_t full = 0, l1_rows = 0;
  for (const auto& r : csv_rows(dir + "/shared.csv")) {
    if (r.at(2) != "l1") continue;
    ++l1_rows;
    if (r.at(4) == "15") {
      ++full;
      EXPECT_TRUE(shared.count(std::stoll(r.at(3)))) << r.at(3);
    }
  }
  EXPECT_EQ(full, 5u);
  EXPECT_EQ(l1_rows, 5u) << "the L1 selections hold nothing but the five diagonal images";

  auto u = csv_rows(dir + "/uniqueness.csv");
  ASSERT_EQ(u.size(), 4u);
  EXPECT_EQ(u[0], (std::vector<std::string>{"layer", "depth", "family", "selector", "n", "m", "U"}));
  EXPECT_EQ(u[2], (std::vector<std::string>{"relu2", "1", "units", "l1", "15", "5", u[2][6]}));
  EXPECT_NEAR(std::stod(u[2][6]), 1.0 / 15, 1e-6);
  for (const char* fig : {"fig8a.png", "fig8a.svg", "fig8a.gp", "fig8b.png", "fig16-relu2-units.png"}) {
    EXPECT_TRUE(fs::exists(dir + "/" + fig)) << fig;
  }

  // A second run on the same folder resumes: nothing is attributed again and U is the same.
  RunManifest again(dir, "uniqueness", {"test"});
  analysis::uniqueness_run(ground_truth_options(), again);
  const auto attr = read_json(dir + "/relu2/attribution/run.json");
  EXPECT_EQ(attr["results"]["processed"], 0) << attr["results"].dump();
  EXPECT_EQ(attr["results"]["already_stored"], 122);
  EXPECT_EQ(read_json(dir + "/run.json")["results"]["layers"][0]["U"], layer["U"]);
}

// The depth axis and the attribution layers on a chain: fmnist-cnn has 4 ReLUs; relu2 and relu3 are its second and
// third, attributed to the ReLU before each. Both families run; the k-means directions come from `tension kmeans`.
TEST(Uniqueness, DepthAxisAndPrecedingCutsOnTheDefaultChain) {
  analysis::UniquenessOptions o;
  o.model.spec = "fmnist-cnn";
  o.model.weights = "random";
  o.data = "synthetic:noise?n=60&size=28&channels=1&seed=4";
  o.layers = {"relu2", "relu3"};
  o.n = 3;
  o.m = 5;
  o.kmeans_k = 10;
  o.shared_min = 3;
  o.view.canvas = 32;
  const std::string dir = temp_dir("uniqueness_chain");
  RunManifest run(dir, "uniqueness", {"test"});
  analysis::uniqueness_run(o, run);
  const auto layers = read_json(dir + "/run.json")["results"]["layers"];
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_EQ(layers[0]["attribution_layer"], "relu1");
  EXPECT_EQ(layers[1]["attribution_layer"], "relu2");
  EXPECT_DOUBLE_EQ(layers[0]["depth"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(layers[1]["depth"].get<double>(), 0.75);
  for (const auto& l : layers) {
    for (const char* family : {"units", "kmeans"}) {
      for (const char* sel : {"mei", "l1", "l2"}) {
        const double u = l["U"][family][sel].get<double>();
        EXPECT_GE(u, 1.0 / 3 - 1e-12) << family << " " << sel;
        EXPECT_LE(u, 1.0) << family << " " << sel;
      }
    }
  }
  EXPECT_TRUE(fs::exists(dir + "/relu3/kmeans/directions.npy"));
  EXPECT_EQ(read_json(dir + "/relu3/attribution/run.json")["params"]["features"].size(), 6u);
}

// The command binds its options (comma lists, the crop-figure switch) and runs the same experiment.
TEST(Uniqueness, CommandLineRunsTheExperiment) {
  const std::string dir = temp_dir("uniqueness_cli");
  std::string out;
  const std::string cmd = tension::testing::cli_binary() + " uniqueness " + testdata("uniqueness/diagonal.pt") +
                          " " + testdata("uniqueness/gt-images-idx3-ubyte") +
                          " --input-size 16 --channels 1 --layers relu2 -n 15 -m 5 --features units "
                          "--selectors mei,l1 --shared-min 15 --no-crop-figures --out " + dir;
  ASSERT_EQ(tension::testing::run_command(cmd, &out), 0) << out;
  auto u = csv_rows(dir + "/uniqueness.csv");
  ASSERT_EQ(u.size(), 3u) << "two selectors, one family, one layer";
  EXPECT_EQ(u[1][3], "mei");
  EXPECT_EQ(u[1][6], "1");
  EXPECT_EQ(u[2][3], "l1");
  const auto doc = read_json(dir + "/run.json");
  EXPECT_EQ(doc["params"]["crop_figures"], false);
  EXPECT_TRUE(fs::exists(dir + "/fig8a.png"));
  EXPECT_FALSE(fs::exists(dir + "/fig8b.png")) << "--no-crop-figures";
  EXPECT_FALSE(fs::exists(dir + "/fig16-relu2-units.png")) << "--no-crop-figures";
}

TEST(Uniqueness, BadOptionsFailBeforeAnyWork) {
  const std::string dir = temp_dir("uniqueness_bad");
  auto check = [&](analysis::UniquenessOptions o, const std::string& what) {
    RunManifest run(dir, "uniqueness", {"test"});
    const std::string msg = error_of([&] { analysis::uniqueness_run(o, run); });
    EXPECT_NE(msg.find(what), std::string::npos) << msg;
    EXPECT_FALSE(fs::exists(dir + "/relu2")) << what << ": work started";
    EXPECT_FALSE(fs::exists(dir + "/relu1")) << what << ": work started";
  };
  auto o = ground_truth_options();
  o.layers = {"relu9"};
  check(o, "no layer 'relu9'");
  o = ground_truth_options();
  o.layers = {"relu1"};
  check(o, "layer relu1 has no preceding tap");
  o = ground_truth_options();
  o.m = 500;
  check(o, "m = 500 is larger than the 122 images");
  o = ground_truth_options();
  o.n = 16;
  o.shared_min = 3;
  check(o, "n = 16 is larger than the 15 channels of layer relu2");
  o = ground_truth_options();
  o.selectors = {"mei+l1"};
  check(o, "combines rules");
  o = ground_truth_options();
  o.families = {"units", "kmeans"};
  o.kmeans_k = 1000;
  check(o, "k-means features need");
}
