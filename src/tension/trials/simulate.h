#pragma once
// Synthetic participants with known accuracies (`tension trials simulate`), answering through the same
// Experiment as the server's participants, so that the analysis can be checked against what was put in.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace tension::trials {

struct SimulateOptions {
  std::string bundle, db;
  int64_t participants = 48;  // the paper recruited 48 people
  // Probability of a correct answer per layer, in the bundle's layer order, or one value for every layer.
  // Q1: correct with accuracy_mei, else a uniformly random distractor (never the MII, so that Q2's accuracy is
  // exactly accuracy_mii). Q2: correct with accuracy_mii, else a random wrong choice other than the Q1 choice.
  std::vector<double> accuracy_mei = {1.0};
  std::vector<double> accuracy_mii = {1.0};
  uint64_t seed = 0;           // the answers and response times are a function of the seed
  std::string prefix = "sim";  // participant ids are PREFIX-0001, PREFIX-0002, ...
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SimulateOptions, bundle, db, participants, accuracy_mei, accuracy_mii, seed, prefix)

// Adds opt.participants finished participants to the response database (created when missing) and returns the
// number of answers given. Throws tension::Error for accuracies outside [0, 1] or not one per layer, and when
// the database already holds a participant of that name.
int64_t simulate(const SimulateOptions& opt);

}  // namespace tension::trials
