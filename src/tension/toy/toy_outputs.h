#pragma once
// What `tension toy` and the demo write of a toy study: per restart, attribution and domain-loss CSVs, the kept
// models, the domain losses (.npy), Fig. 7 and Fig. 15, and run.json's params.toy and results.toy.
#include <string>

#include "tension/core/manifest.h"
#include "tension/toy/toy_study.h"

namespace tension::toy {

// Outputs and results under the task's name, or TASK_PRESET for a preset other than "paper"; returns that key.
std::string write_toy_outputs(const ToyStudy& study, const std::string& preset, RunManifest& run);

}  // namespace tension::toy
