// Selection rules (paper §3, Fig 4): on hand-made rows, and end to end on a hand-built network whose target unit
// is excited by a red square and inhibited by a blue one (tests/python/fixture_selection.py), through
// `tension attribute` and `tension select`, including the interactive page in headless Chromium.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "tension/analysis/selection.h"
#include <nlohmann/json.hpp>

#include "tension/core/error.h"
#include "tension/core/moments.h"
#include "tension/core/percentile.h"
#include "tension/data/image_decode.h"
#include "testing.h"

using namespace tension;
using tension::testing::cli_binary;
using tension::testing::run_command;
using tension::testing::source_dir;
using tension::testing::temp_dir;
using tension::testing::testdata;

namespace {

analysis::SelectionItem item(int64_t image, double fv, double e_pos, double e_neg, double l1,
                             std::vector<float> pos = {0, 0}, std::vector<float> neg = {0, 0}) {
  analysis::SelectionItem it;
  it.image = image;
  it.fv = fv;
  it.e_pos = e_pos;
  it.e_neg = e_neg;
  it.l1 = l1;
  it.phi_pos = std::move(pos);
  it.phi_neg = std::move(neg);
  return it;
}

std::vector<int64_t> images_of(const std::vector<analysis::SelectionItem>& items,
                               const std::vector<analysis::Selected>& sel) {
  std::vector<int64_t> out;
  for (const auto& s : sel) out.push_back(items[s.item].image);
  return out;
}

}  // namespace

TEST(Selection, PercentileIsNumpysLinearInterpolation) {
  // numpy.percentile([1, 2, 3, 4], [0, 25, 50, 90, 100]) = [1, 1.75, 2.5, 3.7, 4]
  std::vector<float> v{4, 1, 3, 2};
  EXPECT_DOUBLE_EQ(percentile(v, 0), 1);
  EXPECT_DOUBLE_EQ(percentile(v, 25), 1.75);
  EXPECT_DOUBLE_EQ(percentile(v, 50), 2.5);
  EXPECT_NEAR(percentile(v, 90), 3.7, 1e-12);
  EXPECT_DOUBLE_EQ(percentile(v, 100), 4);
  EXPECT_THROW(percentile(std::vector<float>{}, 50), Error);
  EXPECT_THROW(percentile(v, 101), Error);
}

// The streamed percentiles (a radix selection in two passes over the values, for pooled statistics of a million rows)
// against the sorted list: equal to the bit, on ties, signed zeros, negatives, subnormals, a single value, and values
// arriving in spans of any length across streams.
TEST(Selection, StreamedPercentilesEqualTheSortedList) {
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<int> level(-40, 40), span(0, 37);
  std::normal_distribution<float> wide(0, 1e3f);
  const std::vector<double> ps{0, 0.1, 1, 25, 50, 73.3, 99, 99.9, 100};
  for (int round = 0; round < 6; ++round) {
    std::vector<std::vector<float>> streams(3);
    const size_t n = round == 0 ? 1 : round == 1 ? 2 : 20000 * static_cast<size_t>(round);
    for (size_t i = 0; i < n; ++i) {
      streams[0].push_back(static_cast<float>(level(rng)) * 0.25f);  // heavy ties
      streams[1].push_back(wide(rng));
      const float odd[] = {0.0f, -0.0f, 1e-40f, -1e-40f, std::numeric_limits<float>::max(), -3.5f};
      streams[2].push_back(odd[i % 6]);
    }
    auto got = percentiles(
        [&](const auto& emit) {
          // Each stream in spans of random length, the streams interleaved.
          std::vector<size_t> at(3, 0);
          std::mt19937_64 cut(round);
          while (at[0] < n || at[1] < n || at[2] < n) {
            for (size_t s = 0; s < 3; ++s) {
              const size_t len = std::min(n - at[s], static_cast<size_t>(span(cut)));
              emit(s, streams[s].data() + at[s], len);
              at[s] += len;
            }
          }
        },
        {ps, ps, ps});
    for (size_t s = 0; s < 3; ++s) {
      for (size_t j = 0; j < ps.size(); ++j) {
        EXPECT_EQ(got[s][j], percentile(streams[s], ps[j])) << "round " << round << " stream " << s << " P" << ps[j];
      }
    }
  }
  const std::vector<float> nan{1, std::nanf(""), 2};
  auto one = [](const std::vector<float>& v) {
    return [&v](const auto& emit) { emit(0, v.data(), v.size()); };
  };
  EXPECT_NE(tension::testing::error_of([&] { percentiles(one(nan), {{50}}); }).find("NaN"), std::string::npos);
  const std::vector<float> none;
  EXPECT_THROW(percentiles(one(none), {{50}}), Error);
  EXPECT_THROW(percentiles(one(nan), {{101}}), Error);
}

// sample_sd against numpy's np.std(x, ddof=1), run by /usr/bin/python3: short lists, a wide one, and one far from 0.
TEST(Selection, SampleSdIsNumpysStdWithDdof1) {
  std::vector<std::vector<double>> lists{{1, 2}, {-3, 3, 0.5}, {}, {}};
  std::mt19937_64 rng(5);
  std::normal_distribution<double> normal;
  for (int i = 0; i < 1000; ++i) {
    lists[2].push_back(3 * normal(rng) + 1);
    lists[3].push_back(1e6 + 1e-3 * normal(rng));
  }
  const std::string dir = temp_dir("sample_sd");
  for (size_t l = 0; l < lists.size(); ++l) {
    std::ofstream out(dir + "/" + std::to_string(l) + ".txt");
    out.precision(17);
    for (double v : lists[l]) out << v << "\n";
  }
  std::string out;
  ASSERT_EQ(run_command("/usr/bin/python3 -c \"import numpy as np; print(*[repr(float(np.std(np.loadtxt('" + dir +
                            "/%d.txt' % l, ndmin=1), ddof=1))) for l in range(" + std::to_string(lists.size()) +
                            ")])\"",
                        &out),
            0)
      << out;
  std::istringstream numpy(out);
  for (const auto& list : lists) {
    double want = 0;
    ASSERT_TRUE(numpy >> want) << out;
    EXPECT_NEAR(sample_sd(list), want, 1e-12 * want) << list.size() << " values";
  }
  EXPECT_EQ(sample_sd({7}), 0.0);
  EXPECT_THROW(sample_sd({}), Error);
}

// The mti window is -0.5 sample_sd < f_v < 0. Image 4 lies inside it but outside the window that the population
// standard deviation (n rather than n - 1) would give; image 5 lies just below it.
TEST(Selection, MtiWindowIsInSampleStandardDeviations) {
  std::vector<analysis::SelectionItem> items{item(0, 2, 2, 0, 2),        item(1, -2, 0, 2, 2),
                                             item(2, 2, 2, 0, 2),        item(3, -2, 0, 2, 2),
                                             item(4, -0.8, 5, 5, 10),    item(5, -0.86, 10, 10, 20),
                                             item(6, -0.1, 0.5, 0.5, 1)};
  // numpy: np.std([2, -2, 2, -2, -0.8, -0.86, -0.1], ddof=1) = 1.6806291339002444 (ddof=0: 1.555960232428181)
  EXPECT_NEAR(analysis::fv_sd(items), 1.6806291339002444, 1e-15);
  analysis::SelectionOptions o;
  o.k = 5;
  EXPECT_EQ(images_of(items, analysis::select(items, {analysis::Rule::Mti}, o)), (std::vector<int64_t>{4, 6}));
  const std::string why = analysis::shortfall(items, {analysis::Rule::Mti}, o, 2);
  EXPECT_NE(why.find("2 of 7 images pass mti (-0.8403 < f_v < 0, -0.5 and 0 sd of f_v)"), std::string::npos) << why;
}

TEST(Selection, RankingRulesAndTheMtiInterval) {
  // f_v: mean 0; sd = sqrt(sum of squares / (n - 1)).
  std::vector<analysis::SelectionItem> items{item(0, 3, 3, 0, 3), item(1, -3, 0, 3, 3), item(2, -0.2, 5, 5.2, 10.2),
                                             item(3, -0.1, 1, 1.1, 2.1), item(4, 0.3, 0.01, 0.02, 0.03),
                                             item(5, -1.5, 8, 9.5, 17.5), item(6, 1.5, 1, 0, 1)};
  analysis::SelectionOptions o;
  o.k = 2;
  EXPECT_EQ(images_of(items, analysis::select(items, {analysis::Rule::Mei}, o)), (std::vector<int64_t>{0, 6}));
  EXPECT_EQ(images_of(items, analysis::select(items, {analysis::Rule::Mii}, o)), (std::vector<int64_t>{1, 5}));
  EXPECT_EQ(images_of(items, analysis::select(items, {analysis::Rule::Zero}, o)), (std::vector<int64_t>{4, 6}));
  // sd(f_v) = sqrt((9 + 9 + .04 + .01 + .09 + 2.25 + 2.25) / 6) = 1.94: the interval (-0.97, 0) keeps 2 and 3;
  // image 5 has the largest ||S||_1 but f_v below -0.5 sd.
  EXPECT_EQ(images_of(items, analysis::select(items, {analysis::Rule::Mti}, o)), (std::vector<int64_t>{2, 3}));
  o.mti_low_sd = -1;
  EXPECT_EQ(images_of(items, analysis::select(items, {analysis::Rule::Mti}, o)), (std::vector<int64_t>{5, 2}));
  o.k = 10;
  auto sel = analysis::select(items, {analysis::Rule::Mti}, o);
  ASSERT_EQ(sel.size(), 3u) << "only what passes the condition, even when k is larger";
  EXPECT_EQ(sel[0].rank, 1);
  EXPECT_EQ(sel[2].rank, 3);
}

TEST(Selection, NormRulesRankByTheNormAloneWithTiesInDatasetOrder) {
  std::vector<analysis::SelectionItem> items(5);
  const double l1[] = {1, 4, 4, 0.5, 3}, l2[] = {0.9, 1, 2, 3, 0.1}, l21[] = {2, 0, 1, 5, 5};
  for (int64_t i = 0; i < 5; ++i) {
    items[i].image = 10 + i;
    items[i].fv = -100.0 * i;  // no condition on f_v, unlike mti
    items[i].l1 = l1[i];
    items[i].l2 = l2[i];
    items[i].l21 = l21[i];
  }
  analysis::SelectionOptions o;
  o.k = 3;
  EXPECT_EQ(images_of(items, analysis::select(items, analysis::parse_rules("l1"), o)),
            (std::vector<int64_t>{11, 12, 14}));
  EXPECT_EQ(images_of(items, analysis::select(items, analysis::parse_rules("l2"), o)),
            (std::vector<int64_t>{13, 12, 11}));
  EXPECT_EQ(images_of(items, analysis::select(items, analysis::parse_rules("l21"), o)),
            (std::vector<int64_t>{13, 14, 10}));
}

TEST(Selection, SpatialAndChannelReadPooledPercentiles) {
  // Three positions per image. Image 0: excitation at 0, inhibition at 2 (spatial); image 1: both at 1
  // (channel); the rest weak.
  std::vector<analysis::SelectionItem> items{item(0, 0, 1, 1, 2, {5, 0, 0}, {0, 0, 5}),
                                             item(1, 0, 1, 1, 2, {0, 5, 0}, {0, 5, 0})};
  for (int i = 2; i < 40; ++i) items.push_back(item(i, 0, 0.1, 0.1, 0.2, {0.1f * (i % 3), 0, 0.1f}, {0, 0.1f, 0.05f}));
  analysis::SelectionOptions o;
  o.k = 5;
  // Image 0 goes furthest past both percentiles. The weak images whose extremes sit exactly at P1 and P99 (the
  // quantised 0.2 and -0.1) pass too, at or past being the test, with score 0.
  auto spatial = analysis::select(items, {analysis::Rule::Spatial}, o);
  ASSERT_EQ(spatial.size(), 5u);
  EXPECT_EQ(items[spatial[0].item].image, 0);
  EXPECT_GT(spatial[0].score, 4);
  for (size_t i = 1; i < spatial.size(); ++i) EXPECT_EQ(spatial[i].score, 0.0);
  EXPECT_EQ(images_of(items, analysis::select(items, {analysis::Rule::Channel}, o)), (std::vector<int64_t>{1}));
  // Combined: must pass both; the channel image is not spatial.
  EXPECT_TRUE(analysis::select(items, analysis::parse_rules("spatial+channel"), o).empty());
  EXPECT_EQ(images_of(items, analysis::select(items, analysis::parse_rules("spatial+mei"), o)).front(), 0);
}

// Saturating units and quantised images: many positions tie at the pooled extreme, so the percentile is that
// extreme. The rules test at or past it; a strict test would select nothing at all.
TEST(Selection, PercentileTiesAtTheExtremeStillSelect) {
  std::vector<analysis::SelectionItem> items;
  for (int i = 0; i < 20; ++i) {  // images 0-4: +1 and -1 at different places; the rest only +1
    items.push_back(i < 5 ? item(i, 0, 1, 1, 2, {1, 1, 0, 0}, {0, 0, 1, 1}) : item(i, 0, 1, 0, 1, {1, 1, 0, 0}, {0, 0, 0, 0}));
  }
  analysis::SelectionOptions o;
  o.k = 10;
  auto spatial = analysis::select(items, {analysis::Rule::Spatial}, o);
  EXPECT_EQ(images_of(items, spatial), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  // Fewer than k: the outputs say so, and why.
  auto why = analysis::shortfall(items, {analysis::Rule::Spatial}, o, spatial.size());
  EXPECT_NE(why.find("5 of 20 images pass spatial"), std::string::npos) << why;
  EXPECT_TRUE(analysis::shortfall(items, {analysis::Rule::Spatial}, o, 10).empty());

  std::vector<analysis::SelectionItem> sat;
  for (int i = 0; i < 20; ++i) {  // phi+ saturates everywhere; phi- reaches the same level at one place in 0-2
    sat.push_back(item(i, 0, 1, 1, 2, {1, 1, 1, 1}, {i < 3 ? 1.f : 0.f, 0, 0, 0}));
  }
  EXPECT_EQ(images_of(sat, analysis::select(sat, {analysis::Rule::Channel}, o)), (std::vector<int64_t>{0, 1, 2}));
  // Ties at 0 are no evidence: an image without inhibition is never "both at one place".
  std::vector<analysis::SelectionItem> zeros;
  for (int i = 0; i < 20; ++i) zeros.push_back(item(i, 0, 1, 0, 1, {1, 0, 0, 0}, {0, 0, 0, 0}));
  EXPECT_TRUE(analysis::select(zeros, {analysis::Rule::Channel}, o).empty());
  EXPECT_TRUE(analysis::select(zeros, {analysis::Rule::Spatial}, o).empty());
}

TEST(Selection, BadRulesAreClearErrors) {
  std::string msg = tension::testing::error_of([] { analysis::parse_rules("mti+tense"); });
  EXPECT_NE(msg.find("tense"), std::string::npos) << msg;
  EXPECT_NE(msg.find("mei, mii, zero, spatial, channel, mti, l1, l2 or l21"), std::string::npos) << msg;
  std::vector<analysis::SelectionItem> no_maps{item(0, 1, 1, 0, 1, {}, {})};
  msg = tension::testing::error_of([&] { analysis::select(no_maps, {analysis::Rule::Channel}, {}); });
  EXPECT_NE(msg.find("phi maps"), std::string::npos) << msg;
}

// The streamed selection keeps k items in a heap and reads pooled statistics in passes of their own. Against the
// unoptimised computation: the statistics from every value in one list (percentile(), sample_sd), and the top k
// as the first k of every passing item ranked at once (k = all: the heap never drops one), on quantised values
// full of ties. The passes are counted: each reads phi maps only when its rule needs them.
TEST(Selection, StreamedTopKEqualsRankingEveryItem) {
  std::mt19937_64 rng(3);
  std::uniform_int_distribution<int> q(-6, 6);
  std::vector<analysis::SelectionItem> items;
  for (int64_t i = 0; i < 1000; ++i) {
    std::vector<float> pos(6), neg(6);
    for (int p = 0; p < 6; ++p) {
      pos[p] = std::max(0, q(rng)) * 0.5f;
      neg[p] = std::max(0, q(rng)) * 0.5f;
    }
    auto it = item(100 + i, q(rng) * 0.3, std::max(0, q(rng)) * 0.2, std::max(0, q(rng)) * 0.2, q(rng) + 6.0, pos, neg);
    it.l2 = std::abs(q(rng));
    it.l21 = std::abs(q(rng)) * 0.7;
    items.push_back(it);
  }
  int passes = 0, map_passes = 0;
  const analysis::ItemSource counted = [&](bool maps, const analysis::ItemVisitor& visit) {
    ++passes;
    map_passes += maps;
    for (const auto& it : items) {
      auto copy = it;
      if (!maps) copy.phi_pos.clear(), copy.phi_neg.clear();  // a store read without its maps
      visit(copy);
    }
  };
  analysis::SelectionOptions o;
  o.spatial_low_pct = 5;
  o.spatial_high_pct = 95;
  o.channel_pct = 90;
  std::vector<float> d, pos, neg;
  std::vector<double> fv;
  for (const auto& it : items) {
    fv.push_back(it.fv);
    for (size_t p = 0; p < 6; ++p) {
      d.push_back(it.phi_pos[p] - it.phi_neg[p]);
      pos.push_back(it.phi_pos[p]);
      neg.push_back(it.phi_neg[p]);
    }
  }
  const auto stats = analysis::pooled_stats(counted, analysis::parse_rules("spatial+channel+mti"), o);
  EXPECT_EQ(stats.fv_sd, sample_sd(fv));
  EXPECT_EQ(stats.d_low, percentile(d, 5));
  EXPECT_EQ(stats.d_high, percentile(d, 95));
  EXPECT_EQ(stats.pos_high, percentile(pos, 90));
  EXPECT_EQ(stats.neg_high, percentile(neg, 90));

  const std::map<std::string, std::pair<int, int>> expected_passes{
      {"mei", {1, 0}}, {"l21", {1, 0}}, {"mti", {4, 0}}, {"spatial", {4, 3}}, {"channel+mti", {6, 3}}};
  for (const std::string spec : {"mei", "mii", "zero", "mti", "l1", "l2", "l21", "spatial", "channel", "spatial+mti",
                                 "channel+mti", "mti+l2", "zero+l21"}) {
    SCOPED_TRACE(spec);
    const auto rules = analysis::parse_rules(spec);
    o.k = 7;
    passes = map_passes = 0;
    const auto top = analysis::select_top(counted, rules, o);
    if (expected_passes.count(spec)) {
      EXPECT_EQ(passes, expected_passes.at(spec).first);
      EXPECT_EQ(map_passes, expected_passes.at(spec).second);
    }
    o.k = static_cast<int64_t>(items.size());
    const auto all = analysis::select_top(counted, rules, o).selected;
    ASSERT_GT(all.size(), 7u) << "too few pass for the heap to drop anything";
    for (size_t i = 1; i < all.size(); ++i) {  // ranked by score, ties in dataset order
      EXPECT_TRUE(all[i - 1].score > all[i].score ||
                  (all[i - 1].score == all[i].score && all[i - 1].item < all[i].item));
    }
    ASSERT_EQ(top.selected.size(), 7u);
    EXPECT_EQ(top.items, items.size());
    for (size_t i = 0; i < 7; ++i) {
      EXPECT_EQ(top.selected[i].item, all[i].item);
      EXPECT_EQ(top.selected[i].rank, static_cast<int64_t>(i) + 1);
      EXPECT_EQ(top.selected[i].score, all[i].score);
      EXPECT_EQ(top.selected[i].row.image, items[all[i].item].image);
      EXPECT_EQ(top.selected[i].row.l1, items[all[i].item].l1);
    }
  }
  // Several rule lists share their passes (`tension select` with four rules: 6 passes, not 13), each selection as
  // alone.
  o.k = 9;
  const std::vector<std::string> specs{"mei", "mti", "spatial", "channel"};
  std::vector<std::vector<analysis::Rule>> lists;
  for (const auto& spec : specs) lists.push_back(analysis::parse_rules(spec));
  passes = map_passes = 0;
  const auto each = analysis::select_each(counted, lists, o);
  EXPECT_EQ(passes, 6);
  EXPECT_EQ(map_passes, 3);
  ASSERT_EQ(each.size(), specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    const auto alone = analysis::select_top(counted, lists[i], o);
    ASSERT_EQ(each[i].selected.size(), alone.selected.size()) << specs[i];
    for (size_t j = 0; j < alone.selected.size(); ++j) EXPECT_EQ(each[i].selected[j].item, alone.selected[j].item);
    EXPECT_EQ(each[i].shortfall, alone.shortfall);
  }
}

// The ground truth end to end: each rule picks exactly the images built for it.
TEST(Selection, GroundTruthThroughTheCliAndThePage) {
  const std::string dir = temp_dir("select_gt"), run = dir + "/run", sel = dir + "/sel";
  std::string out;
  const std::string bin = cli_binary();
  ASSERT_EQ(run_command(bin + " attribute " + testdata("selection/gt.pt") + " " + testdata("selection/images") +
                            " --input-size 15 --feature conv2:0 --layer relu1 --batch-size 8 --out " + run,
                        &out),
            0)
      << out;
  ASSERT_EQ(run_command(bin + " select " + run +
                            " -k 6 --rule mei --rule mii --rule zero --rule spatial --rule channel "
                            "--rule spatial+mii --out " + sel,
                        &out),
            0)
      << out;
  std::ifstream csv(sel + "/selection.csv");
  std::string line;
  std::getline(csv, line);
  EXPECT_EQ(line, "rule,rank,image_index,image,label,fv,E_pos,E_neg,score");
  std::map<std::string, std::set<std::string>> picked;
  while (std::getline(csv, line)) {
    std::stringstream row(line);
    std::string rule, rank, index, path;
    std::getline(row, rule, ',');
    std::getline(row, rank, ',');
    std::getline(row, index, ',');
    std::getline(row, path, ',');
    std::string name = std::filesystem::path(path).filename().string();
    picked[rule].insert(name.substr(0, name.find('_')));
  }
  EXPECT_EQ(picked["mei"], std::set<std::string>{"a"});
  EXPECT_EQ(picked["mii"], std::set<std::string>{"b"});
  EXPECT_EQ(picked["zero"], std::set<std::string>{"blank"});
  EXPECT_EQ(picked["spatial"], std::set<std::string>{"apart"});
  EXPECT_EQ(picked["channel"], std::set<std::string>{"same"});
  for (const char* f : {"/grid-mei.png", "/grid-channel.png", "/scatter.png", "/scatter.gp", "/page.html",
                        "/run.json"}) {
    EXPECT_TRUE(std::filesystem::is_regular_file(sel + f)) << f;
  }
  // The page in a real browser: every point drawn; a click shows that image, and its crop, from the sprite sheets.
  ASSERT_EQ(run_command("node " + source_dir("tests/web/select_page.mjs") + " " + sel + "/page.html --images " +
                            testdata("selection/images"),
                        &out),
            0)
      << out;
  EXPECT_NE(out.find("ok 30 points"), std::string::npos) << out;
  EXPECT_NE(out.find("3 sprites; image and crop equal to its file"), std::string::npos) << out;
}

namespace {

// Mean colourfulness (max - min over RGB) of the overlay row, the bottom half of a two-row rule grid: the overlay
// is drawn over a grey copy, so colour comes from the overlay alone.
double overlay_colour(const std::string& png) {
  auto g = data::decode_image(png);
  auto bottom = g.slice(1, g.size(1) / 2 + 2, g.size(1));
  return (std::get<0>(bottom.max(0)) - std::get<0>(bottom.min(0))).mean().item<double>();
}

}  // namespace

// Fig. 4g normalises the ± maps across images: a row whose attributions are a tenth of another row's is drawn
// fainter. Scaled per row, both rows look the same.
TEST(Selection, OverlayScaleIsPooledOverEveryImageShown) {
  const std::string dir = temp_dir("select_scale"), run = dir + "/run";
  std::string out;
  const std::string bin = cli_binary();
  ASSERT_EQ(run_command(bin + " attribute " + testdata("selection/gt.pt") + " " + testdata("selection/scale") +
                            " --input-size 15 --feature conv2:0 --layer relu1 --batch-size 4 --out " + run,
                        &out),
            0)
      << out;
  double ratio[2];
  for (int per_row = 0; per_row < 2; ++per_row) {
    const std::string sel = dir + "/sel" + std::to_string(per_row);
    ASSERT_EQ(run_command(bin + " select " + run + " -k 6 --rule mei --rule mii --out " + sel +
                              (per_row ? " --per-row-scale" : ""),
                          &out),
              0)
        << out;
    // mei: the strong squares; mii (lowest f_v): the faint ones.
    ratio[per_row] = overlay_colour(sel + "/grid-mii.png") / overlay_colour(sel + "/grid-mei.png");
    auto manifest = nlohmann::json::parse(std::ifstream(sel + "/run.json"));
    EXPECT_EQ(manifest["results"]["overlay_scale"]["images"], 12) << manifest.dump();
  }
  // Pooled, the faint maps sit low on the shared scale: less opaque (and shifted along the colour map).
  EXPECT_LT(ratio[0], 0.7) << "pooled: the faint row must be drawn fainter";
  EXPECT_NEAR(ratio[1], 1.0, 0.05) << "per row: each row is stretched to full colour";
}
