#pragma once
// The whole toy-model experiment for one task (paper §6, App. G): for every width m, train the restarts,
// keep the best on the held-out set, and measure it: losses over the exhaustive domain (Fig. 15) and the
// attribution matrix (Fig. 7); then the paper's claims, each with its measured value.
#include <string>
#include <vector>

#include "tension/toy/attribution_matrix.h"
#include "tension/toy/domain_loss.h"
#include "tension/toy/trainer.h"

namespace tension::toy {

struct StudyConfig {
  TrainConfig train;                  // everything but the width
  std::vector<int> widths{12, 10, 8, 6};
  int64_t heldout_rows = 3'000'000;   // the paper code's 5,000 test batches of 600
};

struct WidthResult {
  int hidden = 0;
  std::vector<double> heldout_loss, final_loss;  // per restart
  int64_t best = 0;                              // restart index (into 0..restarts) kept
  ToyModel model;
  DomainLosses domain;
  std::vector<LossBox> boxes;
  AttributionMatrix attribution;
  DiagonalMass mass;
  std::vector<double> tension;                   // diagonal_tension per probe
  double train_seconds = 0, eval_seconds = 0;
};

struct Claim {
  std::string text;      // what the paper says
  std::string measured;  // what was measured
  bool holds = false;
};

struct ToyStudy {
  StudyConfig config;
  std::vector<WidthResult> widths;
  std::vector<Claim> claims;
};

ToyStudy run_toy_study(const StudyConfig& config);

// The paper's claims about the widest model (perfect on the domain, diagonal attribution matrix, and for XOR
// both E+ and E- on [1,1]_i) and about the trend (off-diagonal mass grows as m shrinks).
std::vector<Claim> check_claims(const ToyStudy& study);

// Thresholds of the claims: "perfect" = every input's loss below this; "diagonal" = off-diagonal mass below
// this fraction of the diagonal; "both" = min(E+, E-) / max(E+, E-) above this on every [1,1]_i.
constexpr double kPerfectLoss = 1e-6;
constexpr double kDiagonalRatio = 0.01;
constexpr double kBothRatio = 0.1;

}  // namespace tension::toy
