#include "tension/atlas/grid.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <utility>

#include "tension/core/error.h"

namespace tension::atlas {
namespace {

// The cells c in [0, n) with c <= t <= c + 1: floor(t) - 1 when t is a whole number, and floor(t).
std::pair<int, int> cell_range(double t, int n) {
  const int f = static_cast<int>(std::floor(t));
  return {std::max(0, t == f ? f - 1 : f), std::min(n - 1, f)};
}

}  // namespace

std::vector<IconCell> assign_cells(const std::vector<float>& layout, const CellGridOptions& opt) {
  if (opt.n < 1 || opt.min_points < 0)
    throw Error("the atlas grid needs n >= 1 and min_points >= 0, got n " + std::to_string(opt.n) +
                ", min_points " + std::to_string(opt.min_points));
  if (layout.size() % 2 != 0) throw Error("assign_cells needs an [n, 2] layout");
  std::map<std::pair<int, int>, std::vector<int64_t>> cells;  // ordered by (xi, yi)
  const auto count = static_cast<int64_t>(layout.size() / 2);
  for (int64_t i = 0; i < count; ++i) {
    const float x = layout[i * 2], y = layout[i * 2 + 1];
    if (!(x >= 0 && x <= 1 && y >= 0 && y <= 1))
      throw Error("layout point " + std::to_string(i) + " (" + std::to_string(x) + ", " + std::to_string(y) +
                  ") is outside [0, 1]^2; normalise the layout first");
    const auto [x0, x1] = cell_range(static_cast<double>(opt.n) * x, opt.n);
    const auto [y0, y1] = cell_range(static_cast<double>(opt.n) * y, opt.n);
    for (int xi = x0; xi <= x1; ++xi)
      for (int yi = y0; yi <= y1; ++yi) cells[{xi, yi}].push_back(i);
  }
  std::vector<IconCell> icons;
  for (auto& [cell, points] : cells)
    if (static_cast<int64_t>(points.size()) > opt.min_points)
      icons.push_back({cell.first, cell.second, std::move(points)});
  return icons;
}

}  // namespace tension::atlas
