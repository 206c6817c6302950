#pragma once
// The analysis of the human MEI -> MII experiment (paper App B, Fig 10): accuracy per layer and question with
// confidence intervals over participants, and the paper's test that the MII is found more often in the first
// layer than in later ones. Participants are the unit throughout: each answers 15 trials per layer, so their
// answers are not independent, and both the intervals and the test resample or permute whole participants.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tension/core/manifest.h"
#include "tension/trials/answer.h"

namespace tension::trials {

struct AnalysisOptions {
  int64_t resamples = 10000;      // bootstrap resamples of the participants per interval
  double level = 0.95;            // confidence level of every interval
  int64_t permutations = 100000;  // Monte Carlo sign flips of the test when exact enumeration is too large
  int64_t exact_max = 20;         // enumerate all 2^n sign flips up to this many participants
  uint64_t seed = 0;              // seeds the bootstrap and the Monte Carlo test
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(AnalysisOptions, resamples, level, permutations, exact_max, seed)

struct TrialsAnalyzeOptions {
  std::string db;      // the response database (`tension trials serve`, `simulate`)
  std::string bundle;  // optional: the trial bundle, for the layers' depth order and a check of the answers
  AnalysisOptions stats;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(TrialsAnalyzeOptions, db, bundle, stats)

struct Interval {
  double low = 0, high = 0;
};

// The chance accuracy of a question: 1/9 for Q1 (nine choices), 1/8 for Q2 (the Q1 choice is excluded).
double chance_level(Question q);

// "mei" or "mii", as results.csv and run.json name the questions.
std::string question_key(Question q);

// The standard normal quantile: z with Phi(z) = p, for p in (0, 1).
double normal_quantile(double p);

// The percentile bootstrap interval of the mean of `values` (one per participant): the (1-level)/2 and
// (1+level)/2 percentiles of the means of `resamples` resamples with replacement, seeded.
Interval bootstrap_ci(const std::vector<double>& values, int64_t resamples, double level, uint64_t seed);

// The Wilson score interval of a proportion, successes of n independent answers.
Interval wilson_interval(int64_t successes, int64_t n, double level);

struct PermutationTest {
  int64_t participants = 0;    // the differences tested
  double mean_difference = 0;  // their mean
  double p = 1;                // two-sided
  bool exact = false;          // every sign flip enumerated; otherwise Monte Carlo
  int64_t draws = 0;           // sign flips counted (2^n when exact)
};

// The two-sided paired permutation (sign-flip) test of a zero mean difference: under the null each participant's
// difference is as likely negated, so p is the share of sign flips whose |mean| reaches the observed one; exact
// when n <= exact_max, else (k+1)/(N+1) over N = draws seeded flips. Throws tension::Error for no differences,
// draws < 1 or exact_max > 30.
PermutationTest paired_permutation_test(const std::vector<double>& differences, int64_t draws, uint64_t seed,
                                        int64_t exact_max = 20);

// The layers in depth order when the bundle is not at hand: ordered by each layer's smallest trial id (trials
// are numbered in layer order).
std::vector<std::string> layer_order(const std::vector<Answer>& answers);

// One layer and question.
struct Accuracy {
  std::string layer;
  int64_t depth = 0;  // index in the layer order
  Question question = Question::mei;
  int64_t participants = 0;  // who answered the question in this layer at least once
  int64_t answers = 0, correct = 0;
  double accuracy = 0;  // the mean over participants of each one's fraction correct
  Interval ci;          // bootstrap_ci over participants (the interval reported and drawn)
  Interval wilson;      // wilson_interval over the pooled answers, treating them as independent
  double chance = 0;
};

// The first layer against a later one, on one question: per participant the accuracy in the first layer minus
// the accuracy in the later one.
struct LayerComparison {
  std::string first, later;
  Question question = Question::mii;
  int64_t left_out = 0;  // participants with answers in only one of the two layers
  PermutationTest test;
};

// One participant's answers in one layer and question: what a study screens participants by.
struct ParticipantAccuracy {
  std::string participant, layer;
  Question question = Question::mei;
  int64_t answers = 0, correct = 0;
};

struct TrialsAnalysis {
  std::vector<std::string> layers;  // depth order
  int64_t participants = 0, answers = 0;
  std::vector<Accuracy> accuracy;            // per layer (depth order), MEI then MII
  std::vector<LayerComparison> comparisons;  // MII, then MEI: the first layer against each later one
  std::vector<ParticipantAccuracy> per_participant;  // by layer (depth order), question, participant
};

// Analyses `answers` with the layers in `layers` (depth order; every answer's layer must be one of them, and every
// layer needs answers to both questions). Throws tension::Error for no answers, an unknown or unanswered layer, a
// participant who answered one question of one trial twice, or options out of range.
TrialsAnalysis analyze_answers(const std::vector<Answer>& answers, const std::vector<std::string>& layers,
                               const AnalysisOptions& opt);

// Writes results.csv, participants.csv, Fig 10 (fig10_accuracy.png, .svg, .gp, .dat) and run.json's results for `a`.
void write_trials_analysis(const TrialsAnalysis& a, const AnalysisOptions& opt, RunManifest& run);

// `tension trials analyze`: reads the answers of opt.db (and the bundle when given: its layer order, and every
// answer's trial and layer checked against it), analyses and writes them into run.dir().
TrialsAnalysis trials_analyze_run(const TrialsAnalyzeOptions& opt, RunManifest& run);

// The same on answers at hand (the tests, the demo): the layer order is the bundle's when opt.bundle is set.
TrialsAnalysis trials_analyze_run(const TrialsAnalyzeOptions& opt, const std::vector<Answer>& answers,
                                  RunManifest& run);

}  // namespace tension::trials
