#pragma once
// Exports a run store for pandas or a spreadsheet (CSV) and for numpy (.npy matrices).
#include <string>
#include <vector>

#include "tension/store/run_store.h"

namespace tension::store {

// Column names of the CSV, in order (documented in the README).
const std::vector<std::string>& csv_columns();

// One row per image, feature and layer; returns the number of rows written.
size_t export_csv(const RunStore& store, const std::string& path);

// channels_F<k>_L<l>.npy [N, C] (when the pass kept channel vectors), plus image_index.npy, fv_F<k>.npy and
// e_F<k>_L<l>.npy / e_pos / e_neg [N], all in the row order of image_index.npy. Returns the files written.
std::vector<std::string> export_npy(const RunStore& store, const std::string& dir);

}  // namespace tension::store
