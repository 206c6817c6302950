#include "tension/trials/analysis.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <tuple>

#include "tension/core/csv.h"
#include "tension/core/error.h"
#include "tension/core/moments.h"
#include "tension/core/percentile.h"
#include "tension/core/splitmix.h"
#include "tension/render/line_plot.h"
#include "tension/trials/bundle.h"

namespace tension::trials {

namespace {

// A seed for one of several independent streams of one run seed (splitmix64 of the pair), so that each interval and
// test has its own generator and adding one changes none of the others.
uint64_t analysis_stream_seed(uint64_t seed, uint64_t stream) {
  uint64_t state = seed + 0x9e3779b97f4a7c15ULL * stream;  // the stream-th value of splitmix64 from the seed
  return splitmix64(state);
}

void check_confidence_level(double level) {
  if (!(level > 0 && level < 1)) throw Error(fmt::format("confidence level {} is outside (0, 1)", level));
}

void check_permutation_options(int64_t draws, int64_t exact_max) {
  if (draws < 1) throw Error(fmt::format("the permutation test needs at least 1 Monte Carlo draw, not {}", draws));
  // 2^30 sign flips of 30 differences take tens of seconds; beyond that Monte Carlo is as good and far quicker.
  if (exact_max > 30) {
    throw Error(fmt::format("exact permutation test of up to {} participants: 30 at most (--exact-max)", exact_max));
  }
}

// Every option at once, before any work that a bad one would stop halfway.
void check_analysis_options(const AnalysisOptions& opt) {
  if (opt.resamples < 1) throw Error(fmt::format("bootstrap resamples must be at least 1, not {}", opt.resamples));
  check_confidence_level(opt.level);
  check_permutation_options(opt.permutations, opt.exact_max);
}

}  // namespace

double chance_level(Question q) { return q == Question::mei ? 1.0 / 9 : 1.0 / 8; }

std::string question_key(Question q) { return q == Question::mei ? "mei" : "mii"; }

double normal_quantile(double p) {
  if (!(p > 0 && p < 1)) throw Error(fmt::format("normal quantile of {}: p must lie in (0, 1)", p));
  if (p < 0.5) return -normal_quantile(1 - p);
  // Newton's method on Phi(z) - p, concave for z >= 0, so that it climbs monotonically from z = 0 to the root.
  double z = 0;
  for (int i = 0; i < 200; ++i) {
    const double cdf = 0.5 * std::erfc(-z / std::sqrt(2.0));
    const double pdf = std::exp(-0.5 * z * z) / std::sqrt(2 * M_PI);
    const double step = (cdf - p) / pdf;
    z -= step;
    if (std::abs(step) < 1e-15 * std::max(1.0, std::abs(z))) break;
  }
  return z;
}

Interval bootstrap_ci(const std::vector<double>& values, int64_t resamples, double level, uint64_t seed) {
  if (values.empty()) throw Error("bootstrap interval of no values");
  if (resamples < 1) throw Error(fmt::format("bootstrap resamples must be at least 1, not {}", resamples));
  check_confidence_level(level);
  uint64_t rng = seed;
  const uint64_t n = values.size();
  std::vector<double> means(static_cast<size_t>(resamples));
  for (auto& m : means) {
    double sum = 0;
    for (uint64_t i = 0; i < n; ++i) sum += values[uniform_below(rng, n)];
    m = sum / static_cast<double>(n);
  }
  const double tail = 100 * (1 - level) / 2;
  return {percentile(means, tail), percentile(std::move(means), 100 - tail)};
}

Interval wilson_interval(int64_t successes, int64_t n, double level) {
  if (n < 1 || successes < 0 || successes > n) {
    throw Error(fmt::format("Wilson interval of {} successes in {} answers", successes, n));
  }
  check_confidence_level(level);
  const double z = normal_quantile((1 + level) / 2), nn = static_cast<double>(n);
  const double p = static_cast<double>(successes) / nn, z2n = z * z / nn;
  const double centre = (p + z2n / 2) / (1 + z2n);
  const double half = z / (1 + z2n) * std::sqrt(p * (1 - p) / nn + z2n / (4 * nn));
  return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

PermutationTest paired_permutation_test(const std::vector<double>& differences, int64_t draws, uint64_t seed,
                                        int64_t exact_max) {
  const auto n = static_cast<int64_t>(differences.size());
  if (n == 0) throw Error("permutation test of no paired differences");
  check_permutation_options(draws, exact_max);
  PermutationTest t;
  t.participants = n;
  double observed = 0, scale = 0;
  for (double d : differences) {
    observed += d;
    scale += std::abs(d);
  }
  t.mean_difference = observed / static_cast<double>(n);
  // The sums of flips that equal the observed one in exact arithmetic (ties) may differ from it by rounding.
  const double reach = std::abs(observed) - 1e-12 * scale;
  auto flipped_sum = [&](auto sign_bit) {
    double s = 0;
    for (int64_t i = 0; i < n; ++i) s += sign_bit(i) ? -differences[i] : differences[i];
    return s;
  };
  int64_t k = 0;
  if (n <= exact_max) {
    t.exact = true;
    t.draws = int64_t{1} << n;
    for (uint64_t mask = 0; mask < static_cast<uint64_t>(t.draws); ++mask) {
      if (std::abs(flipped_sum([&](int64_t i) { return (mask >> i) & 1; })) >= reach) ++k;
    }
    t.p = static_cast<double>(k) / static_cast<double>(t.draws);
    return t;
  }
  uint64_t rng = seed;
  std::vector<uint64_t> bits(static_cast<size_t>((n + 63) / 64));
  for (int64_t draw = 0; draw < draws; ++draw) {
    for (auto& b : bits) b = splitmix64(rng);
    if (std::abs(flipped_sum([&](int64_t i) { return (bits[i / 64] >> (i % 64)) & 1; })) >= reach) ++k;
  }
  t.draws = draws;
  // The observed assignment counts as one of the draws, so p is never 0 (Phipson & Smyth 2010).
  t.p = static_cast<double>(k + 1) / static_cast<double>(draws + 1);
  return t;
}

std::vector<std::string> layer_order(const std::vector<Answer>& answers) {
  std::map<std::string, int64_t> first_trial;
  for (const auto& a : answers) {
    auto it = first_trial.find(a.layer);
    if (it == first_trial.end()) {
      first_trial.emplace(a.layer, a.trial);
    } else {
      it->second = std::min(it->second, a.trial);
    }
  }
  std::vector<std::pair<int64_t, std::string>> order;
  for (const auto& [layer, trial] : first_trial) order.emplace_back(trial, layer);
  std::sort(order.begin(), order.end());
  std::vector<std::string> layers;
  for (const auto& o : order) layers.push_back(o.second);
  return layers;
}

namespace {

constexpr Question kBothQuestions[] = {Question::mei, Question::mii};

std::string question_title(Question q) { return q == Question::mei ? "Q1 (MEI)" : "Q2 (MII)"; }

// Per participant: answers and correct answers in one layer and question.
struct AnswerTally {
  int64_t answers = 0, correct = 0;
  double fraction() const { return static_cast<double>(correct) / static_cast<double>(answers); }
};
using AnswerTallies = std::map<std::string, AnswerTally>;  // by participant, so that every order below is deterministic

}  // namespace

TrialsAnalysis analyze_answers(const std::vector<Answer>& answers, const std::vector<std::string>& layers,
                               const AnalysisOptions& opt) {
  if (answers.empty()) throw Error("no answers to analyse");
  if (layers.empty()) throw Error("no layers to analyse");
  check_analysis_options(opt);
  std::map<std::string, size_t> depth;
  for (const auto& l : layers) {
    if (!depth.emplace(l, depth.size()).second) throw Error("layer " + l + " is listed twice");
  }
  std::vector<std::map<Question, AnswerTallies>> cells(layers.size());
  std::set<std::tuple<std::string, int64_t, Question>> seen;
  std::set<std::string> participants;
  for (const auto& a : answers) {
    auto it = depth.find(a.layer);
    if (it == depth.end()) {
      std::string valid;
      for (const auto& l : layers) valid += (valid.empty() ? "" : ", ") + l;
      throw Error(fmt::format("participant {} answered trial {} of layer {}, which is not one of the layers ({})",
                              a.participant, a.trial, a.layer, valid));
    }
    if (!seen.emplace(a.participant, a.trial, a.question).second) {
      throw Error(fmt::format("participant {} answered {} of trial {} twice", a.participant, question_title(a.question),
                              a.trial));
    }
    participants.insert(a.participant);
    auto& t = cells[it->second][a.question][a.participant];
    ++t.answers;
    t.correct += a.correct ? 1 : 0;
  }
  TrialsAnalysis r;
  r.layers = layers;
  r.participants = static_cast<int64_t>(participants.size());
  r.answers = static_cast<int64_t>(answers.size());
  uint64_t stream = 0;
  for (size_t l = 0; l < layers.size(); ++l) {
    for (Question q : kBothQuestions) {
      const AnswerTallies& tallies = cells[l][q];
      if (tallies.empty()) throw Error(fmt::format("layer {} has no answers to {}", layers[l], question_title(q)));
      Accuracy acc;
      acc.layer = layers[l];
      acc.depth = static_cast<int64_t>(l);
      acc.question = q;
      acc.participants = static_cast<int64_t>(tallies.size());
      std::vector<double> fractions;
      for (const auto& [who, t] : tallies) {
        acc.answers += t.answers;
        acc.correct += t.correct;
        fractions.push_back(t.fraction());
        r.per_participant.push_back({who, layers[l], q, t.answers, t.correct});
      }
      acc.accuracy = moments(fractions).mean;
      acc.ci = bootstrap_ci(fractions, opt.resamples, opt.level, analysis_stream_seed(opt.seed, stream++));
      acc.wilson = wilson_interval(acc.correct, acc.answers, opt.level);
      acc.chance = chance_level(q);
      r.accuracy.push_back(acc);
    }
  }
  for (Question q : {Question::mii, Question::mei}) {
    const AnswerTallies& first = cells[0][q];
    for (size_t l = 1; l < layers.size(); ++l) {
      const AnswerTallies& later = cells[l][q];
      LayerComparison c;
      c.first = layers[0];
      c.later = layers[l];
      c.question = q;
      std::vector<double> differences;
      for (const auto& [who, t] : first) {
        auto it = later.find(who);
        if (it != later.end()) differences.push_back(t.fraction() - it->second.fraction());
      }
      c.left_out = static_cast<int64_t>(first.size() + later.size() - 2 * differences.size());
      if (differences.empty()) {
        throw Error(fmt::format("no participant answered {} in both layer {} and layer {}", question_title(q), c.first,
                                c.later));
      }
      c.test = paired_permutation_test(differences, opt.permutations, analysis_stream_seed(opt.seed, stream++),
                                       opt.exact_max);
      r.comparisons.push_back(c);
    }
  }
  return r;
}

namespace {

std::string csv_number(double v) { return fmt::format("{}", v); }

void write_results_csv(const TrialsAnalysis& a, RunManifest& run) {
  std::ofstream csv(run.path("results.csv"));
  if (!csv) throw Error("cannot write " + run.path("results.csv"));
  csv << "kind,question,layer,depth,versus,participants,answers,correct,accuracy,ci_low,ci_high,wilson_low,"
         "wilson_high,chance,mean_difference,p,left_out,test\n";
  for (const auto& c : a.accuracy) {
    csv << "accuracy," << question_key(c.question) << "," << csv_field(c.layer) << "," << c.depth << ",,"
        << c.participants << "," << c.answers << "," << c.correct << "," << csv_number(c.accuracy) << ","
        << csv_number(c.ci.low) << "," << csv_number(c.ci.high) << "," << csv_number(c.wilson.low) << ","
        << csv_number(c.wilson.high) << "," << csv_number(c.chance) << ",,,,\n";
  }
  for (const auto& c : a.comparisons) {
    csv << "test," << question_key(c.question) << "," << csv_field(c.first) << ",0," << csv_field(c.later) << ","
        << c.test.participants << ",,,,,,,,," << csv_number(c.test.mean_difference) << "," << csv_number(c.test.p)
        << "," << c.left_out << "," << (c.test.exact ? "exact" : "monte-carlo") << "\n";
  }
  csv.close();
  if (!csv) throw Error("cannot write " + run.path("results.csv"));
  run.add_output("results.csv",
                 "accuracy per layer and question with bootstrap and Wilson intervals (kind "
                 "accuracy); the first layer against each later one, paired sign-flip test (kind test)");
}

void write_participants_csv(const TrialsAnalysis& a, RunManifest& run) {
  std::ofstream csv(run.path("participants.csv"));
  csv << "participant,layer,question,answers,correct,accuracy\n";
  for (const auto& p : a.per_participant) {
    csv << csv_field(p.participant) << "," << csv_field(p.layer) << "," << question_key(p.question) << ","
        << p.answers << "," << p.correct << "," << csv_number(static_cast<double>(p.correct) / p.answers) << "\n";
  }
  csv.close();
  if (!csv) throw Error("cannot write " + run.path("participants.csv"));
  run.add_output("participants.csv", "each participant's accuracy per layer and question");
}

// Fig 10 as in the paper: accuracy per layer for both questions with their intervals, and the chance levels.
void write_fig10(const TrialsAnalysis& a, const AnalysisOptions& opt, RunManifest& run) {
  render::LinePanel p;
  p.title =
      fmt::format("Fig 10: accuracy by layer ({} participants, {:g} % bootstrap CI)", a.participants, 100 * opt.level);
  p.xlabel = "layer (depth order)";
  p.ylabel = "accuracy";
  p.fixed_y = p.fixed_x = true;
  p.ymin = 0;
  p.ymax = 1;
  p.xmin = -0.5;
  p.xmax = static_cast<double>(a.layers.size()) - 0.5;
  p.key = "below";  // the curves may reach anywhere in [0, 1]
  for (size_t l = 0; l < a.layers.size(); ++l) p.xtics.emplace_back(static_cast<double>(l), a.layers[l]);
  for (Question q : kBothQuestions) {
    const std::string colour = q == Question::mei ? "#1f77b4" : "#d62728";
    // The two questions' points sit a little apart so that their bars do not overlap.
    const double shift = q == Question::mei ? -0.06 : 0.06;
    render::Series s(question_title(q), {}, {}, colour);
    for (const auto& c : a.accuracy) {
      if (c.question != q) continue;
      s.x.push_back(static_cast<double>(c.depth) + shift);
      s.y.push_back(c.accuracy);
      s.lo.push_back(c.ci.low);
      s.hi.push_back(c.ci.high);
    }
    p.series.push_back(s);
  }
  for (Question q : kBothQuestions) {
    const double chance = chance_level(q);
    p.series.emplace_back(fmt::format("chance {} = 1/{}", question_title(q), q == Question::mei ? 9 : 8),
                          std::vector<double>{p.xmin, p.xmax}, std::vector<double>{chance, chance},
                          q == Question::mei ? "#1f77b4" : "#d62728", 2, false);
  }
  render::write_line_figure(run.path("fig10_accuracy"), {p});
  run.add_output("fig10_accuracy.png",
                 "Fig 10: accuracy by layer for Q1 (MEI) and Q2 (MII) with bootstrap "
                 "intervals over participants and chance levels (also .svg, .gp, .dat)");
}

nlohmann::json analysis_interval_json(const Interval& i) { return {i.low, i.high}; }

}  // namespace

void write_trials_analysis(const TrialsAnalysis& a, const AnalysisOptions& opt, RunManifest& run) {
  write_results_csv(a, run);
  write_participants_csv(a, run);
  write_fig10(a, opt, run);
  nlohmann::json accuracy = nlohmann::json::array(), tests = nlohmann::json::array();
  for (const auto& c : a.accuracy) {
    accuracy.push_back({{"layer", c.layer},
                        {"depth", c.depth},
                        {"question", question_key(c.question)},
                        {"participants", c.participants},
                        {"answers", c.answers},
                        {"correct", c.correct},
                        {"accuracy", c.accuracy},
                        {"ci", analysis_interval_json(c.ci)},
                        {"wilson", analysis_interval_json(c.wilson)},
                        {"chance", c.chance}});
  }
  for (const auto& c : a.comparisons) {
    tests.push_back({{"question", question_key(c.question)},
                     {"first", c.first},
                     {"later", c.later},
                     {"participants", c.test.participants},
                     {"left_out", c.left_out},
                     {"mean_difference", c.test.mean_difference},
                     {"p", c.test.p},
                     {"exact", c.test.exact},
                     {"draws", c.test.draws}});
  }
  run["results"] = {
      {"layers", a.layers},
      {"participants", a.participants},
      {"answers", a.answers},
      {"accuracy", accuracy},
      {"tests", tests},
      {"methods",
       {{"ci", fmt::format("percentile bootstrap of the mean over participants (each one's fraction correct), {} "
                           "resamples, level {}",
                           opt.resamples, opt.level)},
        {"wilson", "Wilson score interval on the pooled answers, as if independent (for comparison only)"},
        {"test", fmt::format("two-sided paired sign-flip permutation test over participants on the difference of "
                             "their accuracies, first layer minus later layer; exact up to {} participants, else "
                             "{} seeded draws with p = (k+1)/(N+1)",
                             opt.exact_max, opt.permutations)}}}};
}

namespace {

// The answers must be about the bundle's trials: the same layer, a choice in the trial, and `correct` as the
// bundle's MEI and MII say (a database of another bundle fails here rather than giving numbers).
void check_answers_against_bundle(const std::vector<Answer>& answers, const Bundle& b, const std::string& db) {
  std::map<int64_t, const Trial*> trials;
  for (const auto& t : b.trials) trials[t.id] = &t;
  for (const auto& a : answers) {
    auto it = trials.find(a.trial);
    auto fail = [&](const std::string& what) {
      throw Error(fmt::format("{}: participant {}, trial {}: {} (is {} the bundle these answers were given on?)", db,
                              a.participant, a.trial, what, b.dir));
    };
    if (it == trials.end()) fail("the bundle has no such trial");
    const Trial& t = *it->second;
    if (t.layer != a.layer) fail("layer " + a.layer + " in the database, " + t.layer + " in the bundle");
    if (a.choice < 0 || a.choice >= static_cast<int64_t>(t.choices.size())) {
      fail(fmt::format("choice {} is not one of the trial's {} choices", a.choice, t.choices.size()));
    }
    const int64_t target = a.question == Question::mei ? t.mei : t.mii;
    if (a.correct != (a.choice == target)) {
      fail(fmt::format("{} choice {} is recorded as {}, but the bundle's target is {}", question_title(a.question),
                       a.choice, a.correct ? "correct" : "wrong", target));
    }
  }
}

}  // namespace

TrialsAnalysis trials_analyze_run(const TrialsAnalyzeOptions& opt, const std::vector<Answer>& answers,
                                  RunManifest& run) {
  run["params"] = opt;
  run.write("running");
  if (answers.empty()) throw Error((opt.db.empty() ? std::string("the answers") : opt.db) + ": no answers to analyse");
  std::vector<std::string> layers;
  if (opt.bundle.empty()) {
    layers = layer_order(answers);
  } else {
    const Bundle b = read_bundle(opt.bundle);
    check_answers_against_bundle(answers, b, opt.db.empty() ? std::string("the answers") : opt.db);
    for (const auto& l : b.layers) layers.push_back(l.name);
  }
  const TrialsAnalysis a = analyze_answers(answers, layers, opt.stats);
  write_trials_analysis(a, opt.stats, run);
  run.write();
  for (const auto& c : a.comparisons) {
    spdlog::info("{}: {} vs {}: mean difference {:.3f}, p = {:.3g} ({} participants)", question_title(c.question),
                 c.first, c.later, c.test.mean_difference, c.test.p, c.test.participants);
  }
  spdlog::info("{} answers of {} participants analysed into {}", a.answers, a.participants, run.dir());
  return a;
}

TrialsAnalysis trials_analyze_run(const TrialsAnalyzeOptions& opt, RunManifest& run) {
  if (opt.db.empty()) throw Error("no response database given (--db)");
  return trials_analyze_run(opt, read_answers(opt.db), run);
}

}  // namespace tension::trials
