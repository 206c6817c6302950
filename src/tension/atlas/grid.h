#pragma once
// The atlas grid (docs/paper-code.md §2.11 step 7): n x n cells over the normalised layout; a cell
// with more than min_points points becomes an icon.
#include <cstdint>
#include <vector>

namespace tension::atlas {

struct CellGridOptions {
  int n = 30;
  int min_points = 5;  // a cell becomes an icon when it holds MORE than this many points
};

struct IconCell {
  int xi = 0, yi = 0;           // the cell [xi/n, (xi+1)/n] x [yi/n, (yi+1)/n]
  std::vector<int64_t> points;  // rows of the layout in the cell, ascending
};

// The icon cells of an [count, 2] layout in [0, 1]^2 (x then y per row), ordered by xi, then yi. A point is in
// cell (xi, yi) iff xi <= n x <= xi + 1 and yi <= n y <= yi + 1, both bounds inclusive as in the paper code, so a
// point on a cell boundary counts in two cells (four at a corner). Throws tension::Error for a coordinate
// outside [0, 1] or options out of range.
std::vector<IconCell> assign_cells(const std::vector<float>& layout, const CellGridOptions& opt = {});

}  // namespace tension::atlas
