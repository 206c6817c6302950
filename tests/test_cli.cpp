// The command-line program end to end: real models, real data, the run manifest, clear errors.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <regex>

#include "testing.h"

using tension::testing::cli_binary;
using tension::testing::run_command;
using tension::testing::temp_dir;

namespace {
std::string tension_cmd(const std::string& args) { return cli_binary() + " " + args; }

nlohmann::json read_json(const std::string& path) {
  std::ifstream f(path);
  EXPECT_TRUE(f.good()) << path;
  return nlohmann::json::parse(f);
}
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
