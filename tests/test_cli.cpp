// The command-line program end to end: real models, real data, the run manifest, clear errors.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <regex>
#include <sstream>

#include "testing.h"

using tension::testing::cli_binary;
using tension::testing::run_command;
using tension::testing::read_json;
using tension::testing::temp_dir;

namespace {
std::string tension_cmd(const std::string& args) { return cli_binary() + " " + args; }
}  // namespace

TEST(Cli, LayersListsEveryTapWithShapesAndWritesAManifest) {
  auto dir = temp_dir("cli_layers");
  std::string out;
  ASSERT_EQ(run_command(tension_cmd("layers fmnist-cnn --weights random --seed 1 --out " + dir), &out), 0) << out;
  EXPECT_NE(out.find("conv1"), std::string::npos) << out;
  EXPECT_NE(out.find("32x28x28"), std::string::npos) << out;
  auto run = read_json(dir + "/run.json");
  EXPECT_EQ(run["command"], "layers");
  EXPECT_EQ(run["status"], "ok");
  EXPECT_EQ(run["model"]["weights"], "random-init:1");
  auto layers = read_json(dir + "/layers.json");
  ASSERT_TRUE(layers.is_array());
  ASSERT_GE(layers.size(), 8u);
  // Every convolutional layer reports a [C, H, W] shape and a receptive field inside the 28x28 input.
  for (const auto& l : layers) {
    ASSERT_FALSE(l.contains("error")) << l.dump();
    auto rf = l["receptive_field"];
    EXPECT_GE(rf["top"].get<int>(), 0);
    EXPECT_LE(rf["bottom"].get<int>(), 28);
    EXPECT_LT(rf["top"].get<int>(), rf["bottom"].get<int>()) << l.dump();
  }
}

// `--rf gradient` measures every field; on this network both ways give the same boxes, and each row says how it
// was found (the params record the choice).
TEST(Cli, LayersMeasureFieldsOnRequest) {
  auto dir = temp_dir("cli_layers_rf");
  std::string a, g;
  ASSERT_EQ(run_command("(" + tension_cmd("layers fmnist-cnn --json") + " 2>/dev/null)", &a), 0) << a;
  ASSERT_EQ(run_command("(" + tension_cmd("layers fmnist-cnn --json --rf gradient --out " + dir) + " 2>/dev/null)", &g),
            0)
      << g;
  auto computed = nlohmann::json::parse(a), measured = nlohmann::json::parse(g);
  ASSERT_EQ(computed.size(), measured.size());
  for (size_t i = 0; i < computed.size(); ++i) {
    EXPECT_EQ(computed[i]["receptive_field_from"], "arithmetic") << computed[i].dump();
    EXPECT_EQ(measured[i]["receptive_field_from"], "gradient") << measured[i].dump();
    EXPECT_EQ(computed[i]["receptive_field"], measured[i]["receptive_field"]) << computed[i]["layer"];
  }
  EXPECT_EQ(read_json(dir + "/run.json")["params"]["rf"], "gradient");
  std::string bad;
  EXPECT_NE(run_command(tension_cmd("layers fmnist-cnn --rf bogus"), &bad), 0);
  EXPECT_NE(bad.find("--rf"), std::string::npos) << bad;
}

// The effective field of a spatial tap lies inside its exact receptive field's square, and the atlas's 0.2
// crop inside the figures' 0.05 crop; dense taps have none.
TEST(Cli, LayersShowTheEffectiveReceptiveField) {
  std::string out;
  // stdout alone: the JSON (logs go to stderr).
  ASSERT_EQ(run_command("(" + tension_cmd("layers fmnist-cnn --effective-field --json") + " 2>/dev/null)", &out), 0)
      << out;
  auto layers = nlohmann::json::parse(out);
  int spatial = 0;
  for (const auto& l : layers) {
    if (l["shape"].size() != 3) {
      EXPECT_FALSE(l.contains("effective_field")) << l.dump();
      continue;
    }
    ++spatial;
    const auto& rf = l["receptive_field"];
    const int side =
        std::max(rf["bottom"].get<int>() - rf["top"].get<int>(), rf["right"].get<int>() - rf["left"].get<int>());
    auto fig = l["effective_field"]["0.05"], atlas = l["effective_field"]["0.2"];
    EXPECT_LE(fig["bottom"].get<int>() - fig["top"].get<int>(), side) << l.dump();
    EXPECT_EQ(fig["bottom"].get<int>() - fig["top"].get<int>(), fig["right"].get<int>() - fig["left"].get<int>());
    EXPECT_LE(atlas["bottom"].get<int>() - atlas["top"].get<int>(),
              fig["bottom"].get<int>() - fig["top"].get<int>());
    EXPECT_GE(atlas["top"].get<int>(), fig["top"].get<int>()) << l.dump();
  }
  EXPECT_GE(spatial, 5);
}

TEST(Cli, CommittedDefaultModelsReachNinetyPercentOnTheTestSplit) {
  for (std::string name : {"fmnist-cnn", "fmnist-cnn-bn"}) {
    std::string out;
    ASSERT_EQ(run_command(tension_cmd("eval " + name + " fashion-mnist:test"), &out), 0) << out;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(out, m, std::regex("accuracy ([0-9.]+) \\(([0-9]+)/([0-9]+)\\)"))) << out;
    EXPECT_GE(std::stod(m[1]), 0.90) << name << ": " << out;
    EXPECT_EQ(m[3], "10000") << out;
  }
}

TEST(Cli, UnknownModelIsAClearError) {
  std::string out;
  EXPECT_EQ(run_command(tension_cmd("layers no-such-model"), &out), 2) << out;
  EXPECT_NE(out.find("unknown model 'no-such-model'"), std::string::npos) << out;
  EXPECT_NE(out.find("fmnist-cnn"), std::string::npos) << "the error lists the built-in models: " << out;
}

TEST(Cli, MissingDatasetIsAClearError) {
  std::string out;
  EXPECT_EQ(run_command(tension_cmd("eval fmnist-cnn /no/such/folder"), &out), 2) << out;
  EXPECT_NE(out.find("/no/such/folder"), std::string::npos) << out;
}

TEST(Cli, CudaWithoutAGpuIsAClearError) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "this machine has CUDA";
  std::string out;
  EXPECT_EQ(run_command(tension_cmd("--device cuda layers fmnist-cnn"), &out), 2) << out;
  EXPECT_NE(out.find("CUDA"), std::string::npos) << out;
}

TEST(Cli, CompletenessAndWeightsWriteTablesAndFigures) {
  auto dir = temp_dir("cli_completeness");
  std::string out;
  // A bias-free ReLU network: E_l = f_v exactly at every layer, so every correlation in the table is 1.
  auto model = tension::testing::testdata("attribution/net_nobias.pt");
  ASSERT_EQ(run_command(tension_cmd("completeness " + model + " synthetic:noise?n=24\\&size=24 --input-size 24 "
                                    "--logits 3 --out " + dir), &out), 0) << out;
  std::ifstream csv(dir + "/completeness.csv");
  std::string line;
  std::getline(csv, line);
  EXPECT_EQ(line, "model,layer,depth,cut,pearson,spearman,mean_abs_diff");
  int rows = 0;
  while (std::getline(csv, line)) {
    ++rows;
    auto cols = [&] {
      std::vector<std::string> c;
      std::stringstream s(line);
      for (std::string f; std::getline(s, f, ',');) c.push_back(f);
      return c;
    }();
    ASSERT_EQ(cols.size(), 7u) << line;
    EXPECT_EQ(cols[3], "1") << line;  // a plain chain: every ReLU is a cut
    EXPECT_NEAR(std::stod(cols[4]), 1.0, 1e-5) << line;
  }
  EXPECT_EQ(rows, 4);  // pixels + 3 ReLU layers
  // The figure is a real PNG of the size the script asks for (3 panels of 460 x 400).
  std::ifstream png(dir + "/completeness.png", std::ios::binary);
  unsigned char head[24] = {};
  png.read(reinterpret_cast<char*>(head), 24);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(head + 1), 3), "PNG");
  EXPECT_EQ((head[16] << 24 | head[17] << 16 | head[18] << 8 | head[19]), 1380);
  EXPECT_EQ((head[20] << 24 | head[21] << 16 | head[22] << 8 | head[23]), 400);

  auto wdir = temp_dir("cli_weights");
  ASSERT_EQ(run_command(tension_cmd("weights fmnist-cnn --out " + wdir), &out), 0) << out;
  auto run = read_json(wdir + "/run.json");
  const auto& signs = run["results"]["weight_signs"];
  ASSERT_EQ(signs.size(), 1u);
  EXPECT_EQ(signs[0]["layers"].size(), 5u);  // conv1..3, fc1, fc2 kernels
  double f = signs[0]["fraction_negative"];
  EXPECT_GT(f, 0.3);
  EXPECT_LT(f, 0.7);
}
