#pragma once
// What `tension toy` and the demo write of a toy study: per restart, attribution and domain-loss CSVs, the kept
// models, the domain losses (.npy), Fig. 7 and Fig. 15, and run.json's params.toy and results.toy.
#include <optional>
#include <string>

#include "tension/core/manifest.h"
#include "tension/toy/toy_study.h"

namespace tension::toy {

// Outputs and results under the task's name, or TASK_PRESET for a preset other than "paper"; returns that key.
std::string write_toy_outputs(const ToyStudy& study, const std::string& preset, RunManifest& run);

struct ToyRunOptions {
  std::string task = "abs";            // abs or xor
  std::string preset = "paper";        // paper or code: the task's settings (ToyTask::named)
  StudyConfig study;                   // its train.task is set from task, preset and the fields below
  std::optional<double> p_on;          // default: the preset's
  bool unit_values = false;            // abs: on features U[0,1) (the paper's text) instead of U(-1,1) (the code)
  std::string hidden_bias = "auto";    // auto (the code's: ToyTask::code_hidden_bias), on or off
};

// `tension toy`: trains the study and writes its outputs into run.dir(). Throws tension::Error for an unknown
// task, preset or hidden-bias choice, or --unit-values on the XOR task.
void toy_run(const ToyRunOptions& opt, RunManifest& run);

}  // namespace tension::toy
