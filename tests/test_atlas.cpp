// The atlas pipeline (paper §5, Fig 6) around UMAP and the grid (test_atlas_umap.cpp) and the page
// (test_atlas_page.cpp): the image selection and second attribution pass against the run store, icon targets,
// icon borders against the colour scale's formula, placement, the icon cache, and `tension atlas` end to end,
// killed in its icon stage and resumed.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ATen/CPUGeneratorImpl.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tension/atlas/atlas_image.h"
#include "tension/atlas/atlas_points.h"
#include "tension/atlas/icons.h"
#include "tension/data/dataset.h"
#include "tension/data/image_decode.h"
#include "tension/model/registry.h"
#include "tension/render/diverging.h"
#include "testing.h"

using namespace tension;
using tension::testing::cli_binary;
using tension::testing::max_rel_err;
using tension::testing::run_command;
using tension::testing::source_dir;
using tension::testing::temp_dir;
namespace fs = std::filesystem;

namespace {

// One attribution run of the default model shared by the tests: conv3:40 attributed to relu2, with S summed over
// positions kept in the store for comparison.
const std::string& shared_run() {
  static const std::string run = [] {
    const std::string dir = temp_dir("atlas_run") + "/run";
    std::string out;
    int rc = run_command(cli_binary() + " attribute fmnist-cnn fashion-mnist:test --feature conv3:40 --layer relu2 "
                                        "--limit 600 --keep-channels --out " + dir, &out);
    if (rc != 0) throw std::runtime_error("tension attribute failed: " + out);
    return dir;
  }();
  return run;
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream f(path);
  return nlohmann::json::parse(f);
}

std::vector<std::vector<std::string>> read_csv(const std::string& path) {
  std::ifstream f(path);
  std::vector<std::vector<std::string>> rows;
  std::string line;
  std::getline(f, line);  // header
  while (std::getline(f, line)) {
    std::vector<std::string> row;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) row.push_back(cell);
    rows.push_back(row);
  }
  return rows;
}

}  // namespace

TEST(AtlasPoints, TopImagesAndTheSecondPassMatchTheStore) {
  auto st = store::RunStore::open(shared_run());
  auto all = atlas::run_images(*st, 0, 0);
  ASSERT_EQ(all.size(), 600u);
  auto top = atlas::top_by_l21(all, 50);
  ASSERT_EQ(top.size(), 50u);
  // No image left out has a larger L2,1 norm than one taken, and the order is descending.
  double taken_min = all[top.back()].l21;
  for (size_t k = 1; k < top.size(); ++k) EXPECT_GE(all[top[k - 1]].l21, all[top[k]].l21);
  for (size_t i = 0; i < all.size(); ++i) {
    if (std::find(top.begin(), top.end(), i) == top.end()) {
      EXPECT_LE(all[i].l21, taken_min);
    }
  }
  EXPECT_EQ(atlas::top_by_l21(all, 10000).size(), 600u);

  // The atlas's own pass (S kept, summed here) against the channel sums the attribution pass stored.
  auto m = model::load_model("fmnist-cnn");
  auto ds = data::open_dataset("fashion-mnist:test");
  attribution::AttributorOptions ao;
  ao.features = {feature::parse_feature("conv3:40")};
  ao.layers = {"relu2"};
  ao.keep_s = true;
  attribution::Attributor attr(*m, ao);
  std::vector<int64_t> images;
  for (size_t i : top) images.push_back(all[i].image);
  atlas::PointsOptions po;
  po.batch_size = 16;
  po.progress = false;
  auto p = atlas::attribute_points(attr, *ds, images, po);
  ASSERT_EQ(p.images, images);
  ASSERT_EQ(p.s.dim(), 4);
  std::map<int64_t, store::AttributionRecord> rows;
  for (auto& r : st->attributions(true)) rows[r.image] = r;
  for (size_t k = 0; k < images.size(); ++k) {
    const auto& r = rows.at(images[k]);
    auto stored = torch::tensor(r.channels);
    EXPECT_LT(max_rel_err(p.vectors[static_cast<int64_t>(k)], stored), 1e-4) << images[k];
    EXPECT_NEAR(p.fv[static_cast<int64_t>(k)].item<double>(), r.fv, 1e-4 * std::max(1.0, std::abs(r.fv)));
    // S outside the footprint is zero: the crop's sum over C, h, w is the layer's E (sum of S).
    EXPECT_NEAR(p.s[static_cast<int64_t>(k)].sum().item<double>(), r.e, 1e-3 * std::max(1.0, std::abs(r.e)));
  }

  // The same pass on the run's own plan narrowed to this feature and layer (as atlas_run does): no planning, the
  // same S.
  auto stored = st->meta("plan");
  ASSERT_FALSE(stored.is_null());
  ao.plan = attribution::plan_of(stored.get<attribution::AttributionPlan>(), 0, 0);
  attribution::Attributor narrowed(*m, ao);
  EXPECT_EQ(narrowed.plan_source(), attribution::PlanSource::given);
  EXPECT_EQ(narrowed.footprint(0, 0), attr.footprint(0, 0));
  auto q = atlas::attribute_points(narrowed, *ds, images, po);
  EXPECT_LT(max_rel_err(q.s, p.s), 1e-5);
  EXPECT_LT(max_rel_err(q.fv, p.fv), 1e-5);
}

TEST(AtlasIcons, TargetIsTheUnitNormMeanInAbsoluteValue) {
  auto s = torch::tensor({1.0f, -3.0f, 2.0f, 0.0f, 3.0f, -1.0f, -2.0f, 4.0f}).view({2, 2, 2, 1});
  // Mean over the two images: [2, -2, 0, 2] / 1 -> norm 2 sqrt 3.
  auto want = torch::tensor({2.0f, 2.0f, 0.0f, 2.0f}).view({2, 2, 1}) / (2 * std::sqrt(3.0f));
  EXPECT_LT((atlas::icon_target(s) - want).abs().max().item<double>(), 1e-6);
  EXPECT_THROW(atlas::icon_target(torch::zeros({3, 2, 2, 2})), Error);
}

TEST(AtlasImage, ColourScaleCornersAndTwoSlopeNorm) {
  // ColorBrewer RdBu ends (#053061, #67001f) and the paper's grey centre.
  auto lo = render::rdbu_r_grey(0), hi = render::rdbu_r_grey(1), mid = render::rdbu_r_grey(0.5);
  EXPECT_NEAR(lo[0], 5 / 255.0, 1e-3);
  EXPECT_NEAR(lo[2], 97 / 255.0, 1e-3);
  EXPECT_NEAR(hi[0], 103 / 255.0, 1e-3);
  EXPECT_NEAR(hi[2], 31 / 255.0, 1e-3);
  for (double c : mid) EXPECT_NEAR(c, 0.9, 0.01);
  // 50 entries (of 256) from the centre the grey blend has ended: plain RdBu_r there.
  auto edge = render::rdbu_r_grey(178.0 / 255);
  EXPECT_GT(edge[0] - edge[2], 0.2);
  EXPECT_DOUBLE_EQ(render::two_slope(-2, -4, 10), 0.25);
  EXPECT_DOUBLE_EQ(render::two_slope(5, -4, 10), 0.75);
  EXPECT_DOUBLE_EQ(render::two_slope(50, -4, 10), 1.0);
  EXPECT_THROW(render::two_slope(0, 1, 2), Error);
  auto [a, b] = atlas::fv_colour_limits({1, 2, 3, 4, 5}, 7);  // mean 3, sd sqrt(2.5)
  EXPECT_NEAR(a, 3 - 7 * std::sqrt(2.5), 1e-9);
  EXPECT_NEAR(b, 3 + 7 * std::sqrt(2.5), 1e-9);
}

TEST(AtlasImage, BordersCarryTheIconsFvAndTilesLandInTheirCells) {
  model::InputSpec in;
  in.channels = 1;
  in.height = in.width = 28;
  atlas::TileOptions to;
  to.px = 40;
  to.border = 3;
  to.fv_lo = -2;
  to.fv_hi = 6;
  std::vector<torch::Tensor> tiles;
  std::vector<atlas::IconCell> cells{{0, 0, {}}, {2, 1, {}}, {1, 2, {}}};
  for (double fv : {-1.5, 0.0, 4.0}) {
    atlas::Icon icon{torch::full({1, 64, 64}, 0.25), torch::ones({1, 64, 64}), fv};
    auto tile = atlas::icon_tile(icon, model::Box{4, 6, 18, 20}, in, to);
    ASSERT_EQ(tile.sizes(), (std::vector<int64_t>{3, 40, 40}));
    const auto want = render::rdbu_r_grey(render::two_slope(fv, -2, 6));
    for (int k = 0; k < 3; ++k) {
      SCOPED_TRACE(fv);
      // Every border pixel, and only those, carries the colour; the inside is the opaque icon.
      auto ch = tile[k];
      auto inner = ch.slice(0, 3, 37).slice(1, 3, 37);
      EXPECT_LT((inner - 0.25).abs().max().item<double>(), 1e-5);
      for (auto edge : {ch.slice(0, 0, 3), ch.slice(0, 37), ch.slice(1, 0, 3), ch.slice(1, 37)}) {
        EXPECT_LT((edge - want[k]).abs().max().item<double>(), 1e-6);
      }
    }
    tiles.push_back(tile);
  }
  auto atlas_img = atlas::compose_atlas(cells, tiles, 3);
  ASSERT_EQ(atlas_img.sizes(), (std::vector<int64_t>{3, 120, 120}));
  for (size_t k = 0; k < cells.size(); ++k) {
    const int64_t row = (2 - cells[k].yi) * 40, col = cells[k].xi * 40;  // y points up
    EXPECT_TRUE(torch::equal(atlas_img.slice(1, row, row + 40).slice(2, col, col + 40), tiles[k])) << k;
  }
  EXPECT_TRUE(atlas_img.slice(1, 0, 40).slice(2, 0, 40).eq(1).all().item<bool>()) << "empty cells stay white";
  // Half transparent: composited over white.
  atlas::Icon faint{torch::zeros({1, 64, 64}), torch::full({1, 64, 64}, 0.5), 0.0};
  auto t = atlas::icon_tile(faint, {}, in, to);
  EXPECT_NEAR(t[0][20][20].item<double>(), 0.5, 1e-5);
}

TEST(AtlasIcons, FinishedBatchesComeFromTheCache) {
  auto m = model::load_model("fmnist-cnn");
  attribution::AttributorOptions ao;
  ao.features = {feature::parse_feature("conv3:40")};
  ao.layers = {"relu2"};
  attribution::Attributor attr(*m, ao);
  const auto fp = attr.footprint(0, 0);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
  std::vector<torch::Tensor> targets;
  for (int k = 0; k < 5; ++k) targets.push_back(torch::rand({32, fp.height(), fp.width()}, gen));  // relu2: 32 channels
  atlas::IconOptions io;
  io.steps = 6;
  io.batch = 2;
  io.param = "pixel";
  io.progress = false;
  const std::string dir = temp_dir("atlas_icons");
  size_t rendered = 0;
  auto tap = model::parse_tap("relu2");
  auto first = atlas::render_icons(*m, ao.features[0], tap, fp, targets, io, {dir}, &rendered);
  ASSERT_EQ(first.size(), 5u);
  EXPECT_EQ(rendered, 3u);
  auto again = atlas::render_icons(*m, ao.features[0], tap, fp, targets, io, {dir}, &rendered);
  EXPECT_EQ(rendered, 0u);
  fs::remove(dir + "/batch-1.json");
  auto resumed = atlas::render_icons(*m, ao.features[0], tap, fp, targets, io, {dir}, &rendered);
  EXPECT_EQ(rendered, 1u);
  for (size_t k = 0; k < first.size(); ++k) {
    SCOPED_TRACE(k);
    EXPECT_TRUE(torch::equal(first[k].image, again[k].image));
    EXPECT_LT((first[k].image - resumed[k].image).abs().max().item<double>(), 1e-6);
    EXPECT_DOUBLE_EQ(first[k].fv, again[k].fv);
  }
  // Another target in a batch invalidates that batch only.
  targets[4] = targets[4] * 2;
  atlas::render_icons(*m, ao.features[0], tap, fp, targets, io, {dir}, &rendered);
  EXPECT_EQ(rendered, 1u);
}

// `tension atlas` end to end: killed once its first icon batch is on disk, then resumed; the resumed run renders
// only the missing batches and ends with the icons of an uninterrupted run; the atlas picture holds each cell's
// icon where the grid puts it; the page passes the headless-browser check.
TEST(AtlasCli, KilledIconStageResumesWithoutRedoingIcons) {
  const std::string dir = temp_dir("atlas_cli"), a = dir + "/a", b = dir + "/b";
  const std::string args = " atlas " + shared_run() + " --images 500 --grid 6 --icon-steps 120 --icon-batch 2 "
                           "--icon-px 32 --top-images 3";
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    setpgid(0, 0);  // its own process group, so that the kill below reaches tension under the shell
    execl("/bin/sh", "sh", "-c", (cli_binary() + args + " --out " + a + " > " + dir + "/a.log 2>&1").c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while (!fs::exists(a + "/icons/batch-0.json") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(-pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  ASSERT_TRUE(fs::exists(a + "/icons/batch-0.json")) << "the icon stage never finished a batch";
  size_t cached = 0;
  for (const auto& e : fs::directory_iterator(a + "/icons")) cached += e.path().extension() == ".json";
  ASSERT_NE(read_json(a + "/run.json").value("status", ""), "ok") << "killed too late: the run had finished";

  std::string out;
  ASSERT_EQ(run_command(cli_binary() + args + " --out " + a, &out), 0) << out;
  ASSERT_EQ(run_command(cli_binary() + args + " --out " + b, &out), 0) << out;
  auto ra = read_json(a + "/run.json")["results"]["atlas"], rb = read_json(b + "/run.json")["results"]["atlas"];
  const size_t icons = rb["icons"].get<size_t>(), batches = (icons + 1) / 2;
  ASSERT_GT(icons, 2u);
  // Icons are cropped to the effective receptive field at the paper's atlas threshold, a square box.
  EXPECT_EQ(rb["crop"]["threshold"].get<double>(), 0.2);
  EXPECT_EQ(rb["attribution_plan"], "the run's");  // the second pass does not plan
  const auto box = rb["crop"]["box"];
  EXPECT_EQ(box[2].get<int>() - box[0].get<int>(), box[3].get<int>() - box[1].get<int>()) << box.dump();
  EXPECT_GT(box[2].get<int>() - box[0].get<int>(), 0) << box.dump();
  EXPECT_EQ(rb["icon_batches_rendered"].get<size_t>(), batches);
  EXPECT_EQ(ra["icon_batches_rendered"].get<size_t>(), batches - cached);
  auto ca = read_csv(a + "/cells.csv"), cb = read_csv(b + "/cells.csv");
  ASSERT_EQ(ca.size(), icons);
  ASSERT_EQ(ca.size(), cb.size());
  for (size_t k = 0; k < ca.size(); ++k) {
    EXPECT_EQ(ca[k][0] + "," + ca[k][1], cb[k][0] + "," + cb[k][1]);
    EXPECT_NEAR(std::stod(ca[k][3]), std::stod(cb[k][3]), 1e-5 * std::max(1.0, std::abs(std::stod(cb[k][3]))));
  }
  // Every icon cell holds more than 5 of the atlas's images, and the picture shows its tile at (xi, n-1-yi).
  auto atlas_img = data::decode_image(b + "/atlas.png");
  ASSERT_EQ(atlas_img.sizes(), (std::vector<int64_t>{3, 6 * 32, 6 * 32}));
  const auto limits = rb["fv_colour_limits"];
  for (const auto& row : cb) {
    const int xi = std::stoi(row[0]), yi = std::stoi(row[1]);
    EXPECT_GT(std::stoi(row[2]), 5);
    auto tile = data::decode_image(b + "/cells/" + row[0] + "_" + row[1] + ".png");
    // Its border: the colour of the icon's measured f_v (cells.csv) on the run's scale.
    const auto colour = render::diverging_colour(std::stod(row[3]), limits[0].get<double>(), limits[1].get<double>());
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(tile[k][0][0].item<double>(), colour[k], 0.6 / 255) << row[0] << "_" << row[1];
    auto placed = atlas_img.slice(1, (5 - yi) * 32, (6 - yi) * 32).slice(2, xi * 32, (xi + 1) * 32);
    EXPECT_LT((placed - tile).abs().max().item<double>(), 1e-6) << row[0] << "_" << row[1];
  }
  EXPECT_EQ(read_csv(b + "/layout.csv").size(), 500u);
  for (const char* f : {"selection.png", "layout.png", "layout.npy", "vectors.npy", "page.html"}) {
    EXPECT_TRUE(fs::file_size(b + "/" + f) > 0) << f;
  }
  // The page's top images: each crop sprite is its dataset image in the crop box, at the box's own resolution.
  std::ifstream html(b + "/page.html");
  const std::string text((std::istreambuf_iterator<char>(html)), std::istreambuf_iterator<char>());
  const size_t from = text.find("const spec = ") + 13, to = text.find(";\nvegaEmbed", from);
  const auto page = nlohmann::json::parse(text.substr(from, to - from))["usermeta"]["atlas"];
  const int64_t top = box[0].get<int64_t>(), left = box[1].get<int64_t>(), side = box[2].get<int64_t>() - top;
  ASSERT_EQ(page["crops"]["width"].get<int64_t>(), side);
  ASSERT_EQ(page["crops"]["height"].get<int64_t>(), side);
  auto ds = data::open_dataset("fashion-mnist:test");
  size_t sprites = 0;
  for (const auto& cell : page["cells"]) {
    for (const auto& t : cell["top"]) {
      const auto& p = t["crop"];
      auto sheet = data::decode_image(b + "/" + page["crops"]["files"][p["sheet"].get<size_t>()].get<std::string>());
      const int64_t x = p["x"].get<int64_t>(), y = p["y"].get<int64_t>();
      auto shown = sheet.slice(1, y, y + side).slice(2, x, x + side);
      auto want = ds->load(t["index"].get<size_t>()).slice(1, top, top + side).slice(2, left, left + side);
      EXPECT_LT((shown - want.expand({3, -1, -1})).abs().max().item<double>(), 1e-6) << t.dump();
      ++sprites;
    }
  }
  EXPECT_GT(sprites, 0u);
  ASSERT_EQ(run_command("node " + source_dir("tests/web/atlas_page.mjs") + " " + b + "/page.html", &out), 0) << out;
}
