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
#include <random>
#include <thread>

#include "tension/analysis/feature_view.h"
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
using tension::testing::read_csv;
using tension::testing::read_json;
using tension::testing::run_command;
using tension::testing::source_dir;
using tension::testing::temp_dir;
namespace fs = std::filesystem;

namespace {

// One attribution run of the default model shared by the tests of this process: conv3:40 attributed to relu2, with S
// summed over positions kept in the store for comparison. Its folder is the process's own: ctest -j runs each test
// in a process of its own, and one must not remake the run while another reads it.
const std::string& shared_run() {
  static const std::string run = [] {
    const std::string dir = temp_dir("atlas_run_" + std::to_string(getpid())) + "/run";
    std::string out;
    int rc = run_command(cli_binary() + " attribute fmnist-cnn fashion-mnist:test --feature conv3:40 --layer relu2 "
                                        "--limit 600 --keep-channels --out " + dir, &out);
    if (rc != 0) throw std::runtime_error("tension attribute failed: " + out);
    return dir;
  }();
  return run;
}

// `sh -c cmd` in a process group of its own, so that kill_group reaches tension under the shell. The parent sets
// the group too: a kill that comes before the child has run setpgid then still finds the group.
pid_t start_group(const std::string& cmd) {
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  if (pid > 0) setpgid(pid, pid);
  return pid;
}

// SIGKILL to the whole group (tension and the shell above it), then the shell reaped.
void kill_group(pid_t pid) {
  kill(-pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

// Icon batches finished in an atlas folder: a batch's JSON is renamed into place after its pixels are written.
size_t finished_batches(const std::string& atlas) {
  size_t n = 0;
  if (!fs::is_directory(atlas + "/icons")) return 0;
  for (const auto& e : fs::directory_iterator(atlas + "/icons")) n += e.path().extension() == ".json";
  return n;
}

}  // namespace

TEST(AtlasPoints, TopImagesAndTheSecondPassMatchTheStore) {
  auto st = store::RunStore::open(shared_run());
  // The atlas's choice, streamed from the store, against every row read at once.
  auto all = st->attributions(false);
  ASSERT_EQ(all.size(), 600u);
  analysis::SelectionOptions so;
  so.k = 50;
  const auto source = analysis::store_source(*st, 0, 0);
  auto top = analysis::select_top(source, {analysis::Rule::L21}, so).selected;
  ASSERT_EQ(top.size(), 50u);
  // No image left out has a larger L2,1 norm than one taken, and the order is descending.
  double taken_min = top.back().row.l21;
  for (size_t k = 1; k < top.size(); ++k) EXPECT_GE(top[k - 1].row.l21, top[k].row.l21);
  for (const auto& r : all) {
    auto in = std::find_if(top.begin(), top.end(), [&](const auto& s) { return s.row.image == r.image; });
    if (in == top.end()) {
      EXPECT_LE(r.l21, taken_min);
    } else {
      EXPECT_EQ(in->row.l21, r.l21);
    }
  }
  so.k = 10000;
  EXPECT_EQ(analysis::select_top(source, {analysis::Rule::L21}, so).selected.size(), 600u);

  // The atlas's own pass (S kept, summed here) against the channel sums the attribution pass stored.
  auto m = model::load_model("fmnist-cnn");
  auto ds = data::open_dataset("fashion-mnist:test");
  attribution::AttributorOptions ao;
  ao.features = {feature::parse_feature("conv3:40")};
  ao.layers = {"relu2"};
  ao.keep_s = true;
  attribution::Attributor attr(*m, ao);
  std::vector<int64_t> images;
  for (const auto& s : top) images.push_back(s.row.image);
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
  const std::vector<double> fv{1, 2, 3, 4, 5};
  auto [a, b] = atlas::fv_colour_limits(double_source(fv), 7);  // mean 3, sd sqrt(2.5)
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
  pid_t pid = start_group(cli_binary() + args + " --out " + a + " > " + dir + "/a.log 2>&1");
  ASSERT_GE(pid, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while (!fs::exists(a + "/icons/batch-0.json") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill_group(pid);
  ASSERT_TRUE(fs::exists(a + "/icons/batch-0.json")) << "the icon stage never finished a batch";
  const size_t cached = finished_batches(a);
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

// Issue 18 §4: `tension atlas` killed ten times at seeded random moments of its icon stage, then run to the end,
// equals an uninterrupted run. A batch lost (a finished one dropped, or one skipped on resuming) or doubled (one
// batch's icons cached or read as another's) leaves a cells.csv row whose f_v, or a tile whose pixels, differ from
// the clean run's, since every batch draws its own seed and target; a finished batch rendered again shows in
// icon_batches_rendered.
TEST(AtlasCli, TenKillsInTheIconStageEndAsTheCleanRun) {
  const std::string dir = temp_dir("atlas_kills"), a = dir + "/a", b = dir + "/b";
  // One icon per batch, so that the stage has many moments to be killed at; a small canvas and few steps keep the
  // twelve runs short.
  const std::string cmd = cli_binary() + " atlas " + shared_run() + " --images 300 --grid 5 --icon-steps 30 "
                          "--icon-batch 1 --canvas 32 --icon-px 32 --top-images 3 --out ";
  std::string out;
  ASSERT_EQ(run_command(cmd + b, &out), 0) << out;
  const size_t icons = read_json(b + "/run.json")["results"]["atlas"]["icons"].get<size_t>();
  ASSERT_GT(icons, 10u);
  // The moment: a random fraction of one batch's time after the first batch this run finishes. The time is the
  // clean run's, from its batch files (the stage's own timing includes its set-up), so that the kills spread alike
  // over the stage on a faster or a busier machine.
  const auto written = [&](size_t k) { return fs::last_write_time(b + "/icons/batch-" + std::to_string(k) + ".json"); };
  const double batch_ms = std::chrono::duration<double, std::milli>(written(icons - 1) - written(0)).count() /
                          static_cast<double>(icons - 1);
  std::mt19937 rng(18);
  std::uniform_real_distribution<double> fraction(0, 1);
  int landed = 0;  // kills that left some but not all batches on disk, the run unfinished
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double delay_ms = fraction(rng) * batch_ms;  // drawn first: the sequence does not depend on the timing
    const size_t before = finished_batches(a);
    pid_t pid = start_group(cmd + a + " > " + dir + "/a.log 2>&1");
    ASSERT_GE(pid, 0);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
    bool exited = false;
    while (!exited && finished_batches(a) == before && std::chrono::steady_clock::now() < deadline) {
      exited = waitpid(pid, nullptr, WNOHANG) == pid;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!exited) {
      std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int64_t>(delay_ms * 1000)));
      kill_group(pid);
    }
    const size_t after = finished_batches(a);
    EXPECT_GE(after, before) << "attempt " << attempt << " lost a finished batch";
    landed += after > 0 && after < icons && fs::exists(a + "/run.json") &&
              read_json(a + "/run.json").value("status", "") != "ok";
  }
  EXPECT_GE(landed, 3) << "few kills landed in the icon stage: the test proved little";
  const size_t cached = finished_batches(a);
  ASSERT_EQ(run_command(cmd + a, &out), 0) << out;
  EXPECT_EQ(read_json(a + "/run.json")["results"]["atlas"]["icon_batches_rendered"].get<size_t>(), icons - cached);
  auto ca = read_csv(a + "/cells.csv"), cb = read_csv(b + "/cells.csv");
  ASSERT_EQ(cb.size(), icons);
  ASSERT_EQ(ca.size(), cb.size());
  for (size_t k = 0; k < ca.size(); ++k) {
    EXPECT_EQ(ca[k][0] + "," + ca[k][1] + "," + ca[k][2], cb[k][0] + "," + cb[k][1] + "," + cb[k][2]);
    EXPECT_NEAR(std::stod(ca[k][3]), std::stod(cb[k][3]), 1e-5 * std::max(1.0, std::abs(std::stod(cb[k][3]))));
    const std::string tile = "/cells/" + cb[k][0] + "_" + cb[k][1] + ".png";
    auto ta = data::decode_image(a + tile), tb = data::decode_image(b + tile);
    ASSERT_EQ(ta.sizes(), tb.sizes()) << tile;
    EXPECT_LT((ta - tb).abs().max().item<double>(), 1e-6) << tile;
  }
  auto pa = data::decode_image(a + "/atlas.png"), pb = data::decode_image(b + "/atlas.png");
  ASSERT_EQ(pa.sizes(), pb.sizes());
  EXPECT_LT((pa - pb).abs().max().item<double>(), 1e-6);
}
