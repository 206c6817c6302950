#pragma once
// What `tension completeness` and the demo write of completeness results: completeness.csv and .json, the
// Fig. 3 / Fig. 13 figure, and run.json's results.completeness.
#include <vector>

#include "tension/analysis/completeness.h"
#include "tension/core/manifest.h"

namespace tension::analysis {

void write_completeness_outputs(const std::vector<CompletenessResult>& results, RunManifest& run);

}  // namespace tension::analysis
