#pragma once
// `tension inversion-check` as a library call (paper App. F, Fig. 14): the model and dataset loaded, the check
// run (resumably) into run.dir(), and its summary recorded.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "tension/analysis/inversion_check.h"
#include "tension/core/json.h"
#include "tension/core/manifest.h"
#include "tension/model/model_source.h"

namespace tension::analysis {

struct InversionCheckRunOptions {
  model::ModelSource model;                // its seed seeds the check
  std::string data;                        // the MTI search, sd(f_v) and the MACO spectrum
  std::string spectrum;                    // a MACO magnitude spectrum (.npy); default: estimated from data
  InversionCheckOptions check;
  std::optional<int64_t> steps, transforms;  // default: the recipe's (121, 16)
  std::optional<double> lr;                  // default: the recipe's (0.02)
};

// The options as run.json records them (every one that decides the numbers): the check's options with the run's
// seed and recipe overrides applied (steps, lr and draws under "optimize"), and the model, data and spectrum file.
void to_json(nlohmann::json& j, const InversionCheckRunOptions& opt);

// Runs or resumes the check; run.json's status is "incomplete" when --max-batches stopped it early.
void inversion_check_run(const InversionCheckRunOptions& opt, RunManifest& run);

}  // namespace tension::analysis
