// `tension visualize` and `tension spectrum` end to end on the default model: files, curve.csv, bad input.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "testing.h"

using tension::testing::cli_binary;
using tension::testing::run_command;
using tension::testing::temp_dir;

TEST(VizCli, VisualizeWritesTheFigureCurveAndImages) {
  auto out = temp_dir("viz_cli");
  std::string log;
  int rc = run_command(cli_binary() + " visualize fmnist-cnn -f conv3:5 -l pool1 --from fashion-mnist:test#3 "
                       "--from noise -t s+ -t s- -t max --steps 4 --transforms 2 --data fashion-mnist:test "
                       "--data-images 100 --out " + out, &log);
  ASSERT_EQ(rc, 0) << log;
  for (const char* f : {"figure.png", "curve.csv", "curve.png", "images.npy", "opacity.npy", "run.json",
                        "seed-spos-rgba.png", "seed-sneg-image.png", "noise-max-opacity.png"}) {
    EXPECT_TRUE(std::filesystem::exists(out + "/" + f)) << f;
  }
  std::ifstream csv(out + "/curve.csv");
  std::string line;
  std::getline(csv, line);
  EXPECT_EQ(line, "panel,kind,target,feature,step,loss,fv,fv_sd");
  int rows = 0;
  bool accentuation = false, visualisation = false;
  while (std::getline(csv, line)) {
    ++rows;
    accentuation |= line.rfind("seed-spos,accentuation,s+,conv3:5,", 0) == 0;
    visualisation |= line.rfind("noise-max,visualisation,max,conv3:5,", 0) == 0;
    EXPECT_NE(line.back(), ',') << "fv_sd is known with --data: " << line;
  }
  EXPECT_EQ(rows, 6 * 4);  // 2 starts x 3 targets x 4 steps
  EXPECT_TRUE(accentuation);
  EXPECT_TRUE(visualisation);
  auto run = nlohmann::json::parse(std::ifstream(out + "/run.json"));
  EXPECT_EQ(run["status"], "ok");
  EXPECT_EQ(run["results"]["panels"].size(), 6u);
}

TEST(VizCli, SpectrumAndBadInput) {
  auto out = temp_dir("viz_cli_spectrum");
  std::string log;
  ASSERT_EQ(run_command(cli_binary() + " spectrum fashion-mnist:test --size 32 --channels 1 --limit 50 --out " + out,
                        &log), 0) << log;
  EXPECT_TRUE(std::filesystem::exists(out + "/spectrum.npy"));
  EXPECT_TRUE(std::filesystem::exists(out + "/spectrum.png"));
  EXPECT_NE(run_command(cli_binary() + " visualize fmnist-cnn -f conv3:5 -t sideways --out " + out, &log), 0);
  EXPECT_NE(log.find("use s+, s-, abs, max or min"), std::string::npos) << log;
  EXPECT_NE(run_command(cli_binary() + " visualize fmnist-cnn -f conv3:5 -t s+ --from noise --out " + out, &log), 0);
  EXPECT_NE(log.find("--layer"), std::string::npos) << log;
  EXPECT_NE(run_command(cli_binary() + " visualize fmnist-cnn -f conv3:5 -l pool1 -t s+ --from noise --out " + out,
                        &log), 0);
  EXPECT_NE(log.find("--image"), std::string::npos) << log;
}
