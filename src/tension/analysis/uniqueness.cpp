#include "tension/analysis/uniqueness.h"

#include <set>
#include <string>

#include "tension/core/error.h"

namespace tension::analysis {

// Paper eq. 6.
double uniqueness(const std::vector<std::vector<int64_t>>& selections, int64_t m) {
  if (selections.empty()) throw Error("uniqueness needs at least one selection");
  if (m < 1) throw Error("uniqueness needs m >= 1, got " + std::to_string(m));
  std::set<int64_t> all;
  for (size_t i = 0; i < selections.size(); ++i) {
    const auto& s = selections[i];
    if (static_cast<int64_t>(s.size()) > m) {
      throw Error("selection " + std::to_string(i) + " holds " + std::to_string(s.size()) +
                  " images, more than m = " + std::to_string(m));
    }
    if (std::set<int64_t>(s.begin(), s.end()).size() != s.size()) {
      throw Error("selection " + std::to_string(i) + " holds an image twice");
    }
    all.insert(s.begin(), s.end());
  }
  return static_cast<double>(all.size()) / (static_cast<double>(selections.size()) * static_cast<double>(m));
}

std::map<int64_t, int> selection_counts(const std::vector<std::vector<int64_t>>& selections) {
  std::map<int64_t, int> counts;
  for (const auto& s : selections) {
    for (int64_t image : s) ++counts[image];
  }
  return counts;
}

}  // namespace tension::analysis
