#include "tension/render/diverging.h"

#include <algorithm>
#include <cmath>

#include "tension/core/error.h"

namespace tension::render {

Rgb rdbu_r_grey(double t) {
  // ColorBrewer's 11-class RdBu, reversed (matplotlib interpolates linearly between these).
  static const Rgb stops[11] = {
      {0.019608, 0.188235, 0.380392}, {0.129412, 0.400000, 0.674510}, {0.262745, 0.576471, 0.764706},
      {0.572549, 0.772549, 0.870588}, {0.819608, 0.898039, 0.941176}, {0.968627, 0.968627, 0.968627},
      {0.992157, 0.858824, 0.780392}, {0.956863, 0.647059, 0.509804}, {0.839216, 0.376471, 0.301961},
      {0.698039, 0.094118, 0.168627}, {0.403922, 0.000000, 0.121569}};
  t = std::clamp(t, 0.0, 1.0);
  const double pos = t * 10;
  const int i = std::min(9, static_cast<int>(pos));
  const double u = pos - i;
  // The paper code's 256-entry table: entry round(t * 255); weight 1 at its centre (128), 0 from 50 entries away.
  const double entry = std::round(t * 255);
  const double w = std::max(0.0, 1.0 - std::abs(entry - 128) / 50.0);
  Rgb c;
  for (int k = 0; k < 3; ++k) c[k] = (1 - w) * ((1 - u) * stops[i][k] + u * stops[i + 1][k]) + w * 0.9;
  return c;
}

double two_slope(double v, double lo, double hi) {
  if (!(lo < 0 && hi > 0)) throw Error("a two-slope colour norm needs lo < 0 < hi");
  double t = v < 0 ? 0.5 * (v - lo) / -lo : 0.5 + 0.5 * v / hi;
  return std::clamp(t, 0.0, 1.0);
}

}  // namespace tension::render
