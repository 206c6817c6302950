// The analysis of the human MEI -> MII experiment (paper App B, Fig 10): the permutation test against p values
// enumerated by hand, the bootstrap's coverage of a known mean, the Wilson interval against its closed form,
// synthetic participants with known accuracies analysed end to end into results.csv, run.json and Fig 10, and
// simulated participants answering through the experiment's own code path into a response database.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "tension/core/error.h"
#include "tension/core/manifest.h"
#include "tension/trials/analysis.h"
#include "tension/trials/simulate.h"
#include "testing.h"
#include "trials_fixture.h"

using namespace tension;
using namespace tension::trials;
using tension::testing::error_of;
using tension::testing::temp_dir;

namespace {

const std::vector<std::string> kLayers = {"early", "middle", "late"};
constexpr int kTrialsPerLayer = 15;

// A cohort with known accuracies: per layer (in kLayers order) the chance that a participant answers Q1 and Q2
// correctly. Each participant answers both questions of every trial; trial ids run in layer order.
struct Truth {
  std::vector<double> mei, mii;
};

std::vector<Answer> simulate_cohort(int participants, const Truth& truth, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<Answer> out;
  for (int p = 0; p < participants; ++p) {
    for (size_t l = 0; l < kLayers.size(); ++l) {
      for (int t = 0; t < kTrialsPerLayer; ++t) {
        for (Question q : {Question::mei, Question::mii}) {
          Answer a;
          a.participant = "p" + std::to_string(p);
          a.trial = static_cast<int64_t>(l) * kTrialsPerLayer + t;
          a.layer = kLayers[l];
          a.question = q;
          a.correct = u(rng) < (q == Question::mei ? truth.mei[l] : truth.mii[l]);
          // The targets are choice 0 (MEI) and 1 (MII); a wrong answer is some other choice.
          a.choice = a.correct ? (q == Question::mei ? 0 : 1) : 2 + t % 7;
          a.rt_ms = 1000;
          out.push_back(a);
        }
      }
    }
  }
  return out;
}

// The per-participant fractions correct in one layer and question, computed here from the answers.
std::map<std::string, double> fractions(const std::vector<Answer>& answers, const std::string& layer, Question q) {
  std::map<std::string, std::pair<int, int>> counts;
  for (const auto& a : answers) {
    if (a.layer != layer || a.question != q) continue;
    auto& c = counts[a.participant];
    ++c.second;
    c.first += a.correct ? 1 : 0;
  }
  std::map<std::string, double> out;
  for (const auto& [who, c] : counts) out[who] = static_cast<double>(c.first) / c.second;
  return out;
}

double mean_of(const std::map<std::string, double>& m) {
  double s = 0;
  for (const auto& kv : m) s += kv.second;
  return s / static_cast<double>(m.size());
}

const Accuracy& cell(const TrialsAnalysis& a, const std::string& layer, Question q) {
  for (const auto& c : a.accuracy) {
    if (c.layer == layer && c.question == q) return c;
  }
  throw std::runtime_error("no cell " + layer);
}

const LayerComparison& comparison(const TrialsAnalysis& a, const std::string& later, Question q) {
  for (const auto& c : a.comparisons) {
    if (c.later == later && c.question == q) return c;
  }
  throw std::runtime_error("no comparison " + later);
}

// A CSV line split at commas, empty fields kept (the analysis writes no quoted fields for these layer names).
std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out(1);
  for (char c : line) {
    if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A PNG's width and height from its IHDR chunk (big-endian at bytes 16 and 20).
std::pair<uint32_t, uint32_t> png_size(const std::string& path) {
  const std::string b = slurp(path);
  if (b.size() < 24 || b.compare(1, 3, "PNG") != 0) return {0, 0};
  auto be32 = [&](size_t at) {
    return (uint32_t(uint8_t(b[at])) << 24) | (uint32_t(uint8_t(b[at + 1])) << 16) |
           (uint32_t(uint8_t(b[at + 2])) << 8) | uint32_t(uint8_t(b[at + 3]));
  };
  return {be32(16), be32(20)};
}

}  // namespace

// Every one of the 2^3 sign flips of three positive differences is enumerated by hand: only all-plus and
// all-minus reach |sum| = 0.8, so p = 2/8; likewise 2/2^20 for twenty.
TEST(TrialsAnalysis, PermutationExactAllPositive) {
  const PermutationTest t = paired_permutation_test({0.2, 0.5, 0.1}, 1000, 1);
  EXPECT_TRUE(t.exact);
  EXPECT_EQ(t.draws, 8);
  EXPECT_EQ(t.participants, 3);
  EXPECT_NEAR(t.mean_difference, 0.8 / 3, 1e-15);
  EXPECT_DOUBLE_EQ(t.p, 2.0 / 8);
  // Exact up to exact_max (20) participants: 2 of the 2^20 flips reach 20 equal differences; 21 are sampled.
  const PermutationTest twenty = paired_permutation_test(std::vector<double>(20, 0.1), 1000, 1);
  EXPECT_TRUE(twenty.exact);
  EXPECT_EQ(twenty.draws, int64_t{1} << 20);
  EXPECT_DOUBLE_EQ(twenty.p, 2.0 / (1 << 20));
  EXPECT_FALSE(paired_permutation_test(std::vector<double>(21, 0.1), 1000, 1).exact);
}

// By hand: {0.3, -0.1, 0.2} flips to sums +-0.6, +-0.4, +-0.2, 0, 0; four reach |0.4|: p = 4/8.
// {1, 1, 1, -1}: sum 2; |sum| >= 2 for the 1 + 1 patterns of sum +-4 and the 4 + 4 of sum +-2: p = 10/16.
// {1, 0, 2}: the zero doubles every pattern of {1, 2} (sums +-3, +-1): p = 2/4. All zeros: p = 1.
TEST(TrialsAnalysis, PermutationExactTiesAndZeros) {
  EXPECT_DOUBLE_EQ(paired_permutation_test({0.3, -0.1, 0.2}, 1000, 1).p, 4.0 / 8);
  EXPECT_DOUBLE_EQ(paired_permutation_test({1, 1, 1, -1}, 1000, 1).p, 10.0 / 16);
  EXPECT_DOUBLE_EQ(paired_permutation_test({1, 0, 2}, 1000, 1).p, 2.0 / 4);
  EXPECT_DOUBLE_EQ(paired_permutation_test({0, 0, 0, 0}, 1000, 1).p, 1.0);
  // The same ties as {1, 1, 1, -1} / 15, but as differences of accuracies, which differ in the last bits: the
  // flips that tie with the observed sum must still count.
  const std::vector<double> d = {10.0 / 15 - 9.0 / 15, 3.0 / 15 - 2.0 / 15, 7.0 / 15 - 6.0 / 15, 4.0 / 15 - 5.0 / 15};
  EXPECT_DOUBLE_EQ(paired_permutation_test(d, 1000, 1).p, 10.0 / 16);
}

// Monte Carlo (forced with exact_max = 0) agrees with exact enumeration on 12 participants within 5 of its standard
// errors (sd <= 0.5 / sqrt(200000) = 0.0011), is (k+1)/(N+1), and is reproducible from its seed.
TEST(TrialsAnalysis, PermutationMonteCarloMatchesExact) {
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0.1, 0.3);
  std::vector<double> d(12);
  for (auto& x : d) x = noise(rng);
  const PermutationTest exact = paired_permutation_test(d, 1000, 1);
  ASSERT_TRUE(exact.exact);
  ASSERT_EQ(exact.draws, 4096);
  const int64_t draws = 200000;
  const PermutationTest mc = paired_permutation_test(d, draws, 3, 0);
  EXPECT_FALSE(mc.exact);
  EXPECT_EQ(mc.draws, draws);
  EXPECT_GT(exact.p, 0.01);  // a p in the middle, where the two paths can disagree
  EXPECT_LT(exact.p, 0.9);
  EXPECT_NEAR(mc.p, exact.p, 0.0055);
  const double k_plus_1 = mc.p * (draws + 1);
  EXPECT_NEAR(k_plus_1, std::round(k_plus_1), 1e-6);
  EXPECT_EQ(paired_permutation_test(d, draws, 3, 0).p, mc.p);
  EXPECT_NE(paired_permutation_test(d, draws, 4, 0).p, mc.p);
  // 30 positive differences: no random flip reaches them (2 of 2^30 do), so p is the floor 1/(N+1).
  EXPECT_DOUBLE_EQ(paired_permutation_test(std::vector<double>(30, 0.2), 1000, 5).p, 1.0 / 1001);
  EXPECT_NE(error_of([] { paired_permutation_test({}, 1000, 1); }).find("no paired differences"), std::string::npos);
}

// Over 200 seeded cohorts of 40 participants whose accuracies are Binomial(15, 0.6) / 15, the 95 % interval covers
// the true mean 0.6 in most (a percentile bootstrap of n = 40 covers a little under 95 %), and its width is that
// of the normal approximation, 2 * 1.96 * sqrt(0.6 * 0.4 / (15 * 40)).
TEST(TrialsAnalysis, BootstrapCoverage) {
  std::mt19937 rng(11);
  std::binomial_distribution<int> correct(15, 0.6);
  int covered = 0;
  double width = 0;
  const int reps = 200;
  for (int r = 0; r < reps; ++r) {
    std::vector<double> acc(40);
    for (auto& a : acc) a = correct(rng) / 15.0;
    const Interval ci = bootstrap_ci(acc, 2000, 0.95, 100 + r);
    EXPECT_LE(ci.low, ci.high);
    covered += ci.low <= 0.6 && 0.6 <= ci.high;
    width += (ci.high - ci.low) / reps;
  }
  const double coverage = static_cast<double>(covered) / reps;
  EXPECT_GE(coverage, 0.9);
  EXPECT_LE(coverage, 0.99);
  const double normal_width = 2 * 1.959964 * std::sqrt(0.6 * 0.4 / (15 * 40));
  EXPECT_NEAR(width, normal_width, 0.1 * normal_width);
}

// Participants of one accuracy leave nothing to resample: the interval is the point.
TEST(TrialsAnalysis, BootstrapDegenerate) {
  const Interval ci = bootstrap_ci(std::vector<double>(25, 0.6), 1000, 0.95, 3);
  EXPECT_EQ(ci.low, ci.high);
  EXPECT_NEAR(ci.low, 0.6, 1e-12);
  std::vector<double> v;
  for (int i = 0; i < 30; ++i) v.push_back(i * i / 1000.0);
  EXPECT_EQ(bootstrap_ci(v, 1000, 0.95, 3).low, bootstrap_ci(v, 1000, 0.95, 3).low);
  EXPECT_NE(bootstrap_ci(v, 1000, 0.95, 3).low, bootstrap_ci(v, 1000, 0.95, 4).low);
  EXPECT_NE(error_of([] { bootstrap_ci({}, 1000, 0.95, 1); }).find("no values"), std::string::npos);
  EXPECT_NE(error_of([&] { bootstrap_ci(v, 1000, 1.5, 1); }).find("outside (0, 1)"), std::string::npos);
}

// The normal quantiles of statistical tables, and Wilson intervals from the closed form evaluated in Python
// (z = 1.959963984540054).
TEST(TrialsAnalysis, WilsonAndNormalQuantile) {
  EXPECT_NEAR(normal_quantile(0.975), 1.959963984540054, 1e-12);
  EXPECT_NEAR(normal_quantile(0.025), -1.959963984540054, 1e-12);
  EXPECT_NEAR(normal_quantile(0.995), 2.5758293035489004, 1e-12);
  EXPECT_NEAR(normal_quantile(0.5), 0.0, 1e-15);
  const Interval a = wilson_interval(8, 10, 0.95);
  EXPECT_NEAR(a.low, 0.4901624715366418, 1e-12);
  EXPECT_NEAR(a.high, 0.9433178485456248, 1e-12);
  const Interval b = wilson_interval(0, 20, 0.95);
  EXPECT_NEAR(b.low, 0.0, 1e-15);
  EXPECT_NEAR(b.high, 0.16112515805281938, 1e-12);
  const Interval c = wilson_interval(45, 60, 0.95);
  EXPECT_NEAR(c.low, 0.6276792992295218, 1e-12);
  EXPECT_NEAR(c.high, 0.8422347746994333, 1e-12);
}

// Layers listed without a bundle follow their smallest trial id, not their names.
TEST(TrialsAnalysis, LayerOrderFromTrialIds) {
  std::vector<Answer> answers;
  for (auto [layer, trial] : std::vector<std::pair<std::string, int64_t>>{
           {"late", 31}, {"mid", 16}, {"early", 3}, {"late", 30}, {"early", 0}, {"mid", 29}}) {
    Answer a;
    a.participant = "x";
    a.layer = layer;
    a.trial = trial;
    answers.push_back(a);
  }
  EXPECT_EQ(layer_order(answers), (std::vector<std::string>{"early", "mid", "late"}));
}

// The paper's design with known accuracies: Q1 0.8 everywhere, Q2 0.7 in the first layer and 0.15 later.
TEST(TrialsAnalysis, SyntheticCohort) {
  const Truth truth{{0.8, 0.8, 0.8}, {0.7, 0.15, 0.15}};
  const auto answers = simulate_cohort(40, truth, 2024);
  AnalysisOptions opt;
  opt.seed = 5;
  const TrialsAnalysis a = analyze_answers(answers, kLayers, opt);
  EXPECT_EQ(a.participants, 40);
  EXPECT_EQ(a.answers, 40 * 3 * kTrialsPerLayer * 2);
  EXPECT_EQ(a.layers, kLayers);
  ASSERT_EQ(a.accuracy.size(), 6u);
  for (size_t l = 0; l < kLayers.size(); ++l) {
    for (Question q : {Question::mei, Question::mii}) {
      const Accuracy& c = cell(a, kLayers[l], q);
      const double true_acc = q == Question::mei ? truth.mei[l] : truth.mii[l];
      SCOPED_TRACE(kLayers[l] + " " + question_key(q));
      EXPECT_EQ(c.depth, static_cast<int64_t>(l));
      EXPECT_EQ(c.participants, 40);
      EXPECT_EQ(c.answers, 40 * kTrialsPerLayer);
      EXPECT_NEAR(c.accuracy, mean_of(fractions(answers, kLayers[l], q)), 1e-12);
      EXPECT_LE(c.ci.low, true_acc);
      EXPECT_GE(c.ci.high, true_acc);
      EXPECT_LE(c.ci.low, c.accuracy);
      EXPECT_GE(c.ci.high, c.accuracy);
      EXPECT_LT(c.ci.high - c.ci.low, 0.2);  // an interval, not the whole axis
      EXPECT_LE(c.wilson.low, c.accuracy);
      EXPECT_GE(c.wilson.high, c.accuracy);
      EXPECT_DOUBLE_EQ(c.chance, q == Question::mei ? 1.0 / 9 : 1.0 / 8);
    }
  }
  ASSERT_EQ(a.comparisons.size(), 4u);
  for (const std::string later : {"middle", "late"}) {
    const LayerComparison& mii = comparison(a, later, Question::mii);
    EXPECT_EQ(mii.first, "early");
    EXPECT_EQ(mii.left_out, 0);
    EXPECT_EQ(mii.test.participants, 40);
    EXPECT_FALSE(mii.test.exact);  // 40 > exact_max
    EXPECT_LT(mii.test.p, 0.001) << later;
    EXPECT_NEAR(mii.test.mean_difference,
                mean_of(fractions(answers, "early", Question::mii)) - mean_of(fractions(answers, later, Question::mii)),
                1e-12);
    EXPECT_GT(comparison(a, later, Question::mei).test.p, 0.05) << later;
  }
}

// Participants who answered only one of two layers are counted and left out of that test; errors name the problem.
TEST(TrialsAnalysis, LeftOutAndErrors) {
  auto answers = simulate_cohort(10, {{0.8, 0.8, 0.8}, {0.7, 0.15, 0.15}}, 3);
  for (int t = 0; t < kTrialsPerLayer; ++t) {
    Answer a;
    a.participant = "only-early";
    a.trial = t;
    a.layer = "early";
    a.question = Question::mii;
    a.correct = true;
    answers.push_back(a);
  }
  const TrialsAnalysis a = analyze_answers(answers, kLayers, AnalysisOptions{});
  EXPECT_EQ(a.participants, 11);
  EXPECT_EQ(cell(a, "early", Question::mii).participants, 11);
  EXPECT_EQ(cell(a, "early", Question::mei).participants, 10);
  const LayerComparison& c = comparison(a, "late", Question::mii);
  EXPECT_EQ(c.left_out, 1);
  EXPECT_EQ(c.test.participants, 10);
  EXPECT_TRUE(c.test.exact);
  EXPECT_EQ(c.test.draws, 1024);

  EXPECT_NE(error_of([] { analyze_answers({}, kLayers, AnalysisOptions{}); }).find("no answers"), std::string::npos);
  auto twice = answers;
  twice.push_back(answers.front());
  EXPECT_NE(error_of([&] { analyze_answers(twice, kLayers, AnalysisOptions{}); }).find("twice"), std::string::npos);
  const std::string unknown = error_of([&] { analyze_answers(answers, {"early", "middle"}, AnalysisOptions{}); });
  EXPECT_NE(unknown.find("late"), std::string::npos);
  EXPECT_NE(unknown.find("early, middle"), std::string::npos);
  std::vector<Answer> no_mii;
  for (const auto& x : answers) {
    if (!(x.layer == "middle" && x.question == Question::mii)) no_mii.push_back(x);
  }
  const std::string unanswered = error_of([&] { analyze_answers(no_mii, kLayers, AnalysisOptions{}); });
  EXPECT_NE(unanswered.find("layer middle has no answers to Q2"), std::string::npos);
  AnalysisOptions bad;
  bad.exact_max = 31;
  EXPECT_NE(error_of([&] { analyze_answers(answers, kLayers, bad); }).find("30 at most"), std::string::npos);
  bad = AnalysisOptions{};
  bad.permutations = 0;
  EXPECT_NE(error_of([&] { analyze_answers(answers, kLayers, bad); }).find("at least 1 Monte Carlo draw"),
            std::string::npos);
  bad = AnalysisOptions{};
  bad.resamples = 0;
  EXPECT_NE(error_of([&] { analyze_answers(answers, kLayers, bad); }).find("resamples"), std::string::npos);
  RunManifest run(temp_dir("trials_analysis_empty"), "trials analyze", {"test"});
  TrialsAnalyzeOptions opt;
  opt.db = "responses.sqlite";
  EXPECT_NE(error_of([&] { trials_analyze_run(opt, {}, run); }).find("responses.sqlite: no answers"),
            std::string::npos);
}

// The run's outputs: results.csv parses back to the analysis, run.json holds it, and Fig 10 draws both questions
// with their intervals and both chance lines over the layers by name.
TEST(TrialsAnalysis, RunEndToEnd) {
  const Truth truth{{0.8, 0.8, 0.8}, {0.7, 0.15, 0.15}};
  const auto answers = simulate_cohort(40, truth, 99);
  const std::string dir = temp_dir("trials_analysis_run");
  RunManifest run(dir, "trials analyze", {"tension", "trials", "analyze"});
  TrialsAnalyzeOptions opt;
  opt.stats.seed = 8;
  const TrialsAnalysis a = trials_analyze_run(opt, answers, run);

  std::ifstream csv(dir + "/results.csv");
  std::string line;
  ASSERT_TRUE(std::getline(csv, line));
  const auto header = split_csv(line);
  std::map<std::string, size_t> col;
  for (size_t i = 0; i < header.size(); ++i) col[header[i]] = i;
  for (const char* name : {"kind", "question", "layer", "depth", "versus", "participants", "answers", "accuracy",
                           "ci_low", "ci_high", "chance", "mean_difference", "p", "left_out"}) {
    ASSERT_TRUE(col.count(name)) << name;
  }
  int accuracy_rows = 0, test_rows = 0;
  while (std::getline(csv, line)) {
    const auto f = split_csv(line);
    ASSERT_EQ(f.size(), header.size()) << line;
    const Question q = f[col["question"]] == "mei" ? Question::mei : Question::mii;
    ASSERT_TRUE(f[col["question"]] == "mei" || f[col["question"]] == "mii") << line;
    if (f[col["kind"]] == "accuracy") {
      ++accuracy_rows;
      const Accuracy& c = cell(a, f[col["layer"]], q);
      EXPECT_EQ(std::stoll(f[col["depth"]]), c.depth);
      EXPECT_EQ(std::stoll(f[col["participants"]]), 40);
      EXPECT_EQ(std::stoll(f[col["answers"]]), 40 * kTrialsPerLayer);
      // Shortest round-trip numbers: they parse back exactly, and match the reference computed here.
      EXPECT_EQ(std::stod(f[col["accuracy"]]), c.accuracy);
      EXPECT_NEAR(std::stod(f[col["accuracy"]]), mean_of(fractions(answers, c.layer, q)), 1e-12);
      EXPECT_EQ(std::stod(f[col["ci_low"]]), c.ci.low);
      EXPECT_EQ(std::stod(f[col["ci_high"]]), c.ci.high);
      EXPECT_DOUBLE_EQ(std::stod(f[col["chance"]]), q == Question::mei ? 1.0 / 9 : 1.0 / 8);
    } else {
      ASSERT_EQ(f[col["kind"]], "test") << line;
      ++test_rows;
      EXPECT_EQ(f[col["layer"]], "early");
      const LayerComparison& c = comparison(a, f[col["versus"]], q);
      EXPECT_EQ(std::stod(f[col["p"]]), c.test.p);
      EXPECT_EQ(std::stod(f[col["mean_difference"]]), c.test.mean_difference);
      EXPECT_EQ(std::stoll(f[col["participants"]]), 40);
      EXPECT_EQ(std::stoll(f[col["left_out"]]), 0);
      if (q == Question::mii) {
        EXPECT_LT(std::stod(f[col["p"]]), 0.001);
      }
    }
  }
  EXPECT_EQ(accuracy_rows, 6);
  EXPECT_EQ(test_rows, 4);

  std::ifstream rj(dir + "/run.json");
  const auto j = nlohmann::json::parse(rj);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["params"]["stats"]["seed"], 8);
  EXPECT_EQ(j["results"]["participants"], 40);
  ASSERT_EQ(j["results"]["accuracy"].size(), 6u);
  ASSERT_EQ(j["results"]["tests"].size(), 4u);
  EXPECT_EQ(j["results"]["tests"][0]["question"], "mii");
  EXPECT_EQ(j["results"]["tests"][0]["p"].get<double>(), a.comparisons[0].test.p);
  EXPECT_EQ(j["results"]["accuracy"][1]["ci"][0].get<double>(), a.accuracy[1].ci.low);

  // Fig 10: both questions as points with bars (yerrorlines), both chance lines, the layers by name on x, in each
  // of the two terminals; the data holds the bars and the chance levels.
  const std::string gp = slurp(dir + "/fig10_accuracy.gp");
  EXPECT_EQ(count_of(gp, "with yerrorlines"), 4u);
  EXPECT_EQ(count_of(gp, "title 'Q1 (MEI)'"), 2u);
  EXPECT_EQ(count_of(gp, "title 'Q2 (MII)'"), 2u);
  EXPECT_EQ(count_of(gp, "title 'chance Q1 (MEI) = 1/9'"), 2u);
  EXPECT_EQ(count_of(gp, "title 'chance Q2 (MII) = 1/8'"), 2u);
  EXPECT_EQ(count_of(gp, "set xtics ('early' 0, 'middle' 1, 'late' 2)"), 2u);
  EXPECT_EQ(count_of(gp, "set yrange [0.000000:1.000000]"), 2u);
  const std::string dat = slurp(dir + "/fig10_accuracy.dat");
  EXPECT_NE(dat.find("0.111111"), std::string::npos);
  EXPECT_NE(dat.find("0.125"), std::string::npos);
  EXPECT_EQ(count_of(dat, ": x y lo hi"), 2u);
  const auto [w, h] = png_size(dir + "/fig10_accuracy.png");
  EXPECT_EQ(w, 460u);
  EXPECT_EQ(h, 400u);
  EXPECT_GT(std::filesystem::file_size(dir + "/fig10_accuracy.png"), 10000u);
  const std::string svg = slurp(dir + "/fig10_accuracy.svg");
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  for (const char* text : {">early<", ">middle<", ">late<", "Q2 (MII)"}) {
    EXPECT_NE(svg.find(text), std::string::npos) << text;
  }
}

// Simulated participants answer a synthetic bundle through the experiment's code path into a response database
// (`tension trials simulate`); the analysis reads the database back, checks it against the bundle, and finds the
// accuracies that were put in.
TEST(TrialsAnalysis, SimulatedDatabase) {
  const std::string dir = temp_dir("trials_analysis_simulated");
  const std::vector<std::string> layers = {"conv1", "conv2", "conv3"};
  tension::testing::write_synthetic_bundle(dir + "/bundle", layers, kTrialsPerLayer);
  SimulateOptions sim;
  sim.bundle = dir + "/bundle";
  sim.db = dir + "/responses.sqlite";
  sim.participants = 30;
  sim.accuracy_mei = {0.8};
  sim.accuracy_mii = {0.7, 0.15, 0.15};
  sim.seed = 12;
  ASSERT_EQ(simulate(sim), 30 * 3 * kTrialsPerLayer * 2);

  RunManifest run(dir + "/analysis", "trials analyze", {"tension", "trials", "analyze"});
  TrialsAnalyzeOptions opt;
  opt.db = sim.db;
  opt.bundle = sim.bundle;
  opt.stats.seed = 2;
  const TrialsAnalysis a = trials_analyze_run(opt, run);
  EXPECT_EQ(a.layers, layers);
  EXPECT_EQ(a.participants, 30);
  EXPECT_EQ(a.answers, 30 * 3 * kTrialsPerLayer * 2);
  for (size_t l = 0; l < layers.size(); ++l) {
    for (Question q : {Question::mei, Question::mii}) {
      const Accuracy& c = cell(a, layers[l], q);
      const double truth = q == Question::mei ? sim.accuracy_mei[0] : sim.accuracy_mii[l];
      SCOPED_TRACE(layers[l] + " " + question_key(q));
      EXPECT_EQ(c.participants, 30);
      EXPECT_EQ(c.answers, 30 * kTrialsPerLayer);
      EXPECT_LE(c.ci.low, truth);
      EXPECT_GE(c.ci.high, truth);
    }
  }
  for (const std::string later : {"conv2", "conv3"}) {
    EXPECT_LT(comparison(a, later, Question::mii).test.p, 0.001) << later;
    EXPECT_GT(comparison(a, later, Question::mei).test.p, 0.05) << later;
  }
  // Without the bundle the layers come out in the same order, from the trial ids.
  TrialsAnalyzeOptions no_bundle = opt;
  no_bundle.bundle.clear();
  RunManifest run2(dir + "/analysis-no-bundle", "trials analyze", {"tension", "trials", "analyze"});
  EXPECT_EQ(trials_analyze_run(no_bundle, run2).layers, layers);
  // A bundle whose targets differ from those the answers were scored against is refused.
  const std::string other = dir + "/other";
  tension::testing::write_synthetic_bundle(other, {"conv1", "conv2", "conv3"}, 16);
  TrialsAnalyzeOptions wrong = opt;
  wrong.bundle = other;
  RunManifest run3(dir + "/analysis-wrong", "trials analyze", {"tension", "trials", "analyze"});
  EXPECT_NE(error_of([&] { trials_analyze_run(wrong, run3); }).find("is " + other + " the bundle"), std::string::npos);
}
