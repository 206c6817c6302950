#include "tension/atlas/atlas_image.h"

#include <algorithm>
#include <cmath>

#include "tension/core/error.h"
#include "tension/core/moments.h"
#include "tension/render/diverging.h"

namespace tension::atlas {

torch::Tensor icon_tile(const Icon& icon, const model::Box& rf, const model::InputSpec& input, const TileOptions& opt) {
  const int64_t side = icon.image.size(-1);
  auto img = icon.image.to(torch::kFloat).cpu(), alpha = icon.alpha.to(torch::kFloat).cpu();
  if (rf.height() > 0) {
    auto b = model::scale_box(rf, input.height, input.width, side, side);
    img = img.slice(1, b.top, b.bottom).slice(2, b.left, b.right);
    alpha = alpha.slice(1, b.top, b.bottom).slice(2, b.left, b.right);
  }
  namespace F = torch::nn::functional;
  auto resize = [&](const torch::Tensor& t) {
    return F::interpolate(t.unsqueeze(0), F::InterpolateFuncOptions()
                                              .size(std::vector<int64_t>{opt.px, opt.px})
                                              .mode(torch::kBilinear)
                                              .align_corners(false)
                                              .antialias(true))
        .squeeze(0)
        .clamp(0, 1);
  };
  img = resize(img.expand({3, -1, -1}));
  alpha = resize(alpha);
  auto tile = img * alpha + (1 - alpha);
  const int64_t b = std::min(opt.px / 2, opt.border > 0 ? opt.border : std::max<int64_t>(1, opt.px / 16));
  const auto c = render::diverging_colour(icon.fv, opt.fv_lo, opt.fv_hi);
  auto colour = torch::tensor({c[0], c[1], c[2]}, torch::kFloat).view({3, 1, 1});
  // Over the icon's outer pixels, as the paper code does (the tile keeps its size).
  tile.slice(1, 0, b).copy_(colour.expand({3, b, opt.px}));
  tile.slice(1, opt.px - b).copy_(colour.expand({3, b, opt.px}));
  tile.slice(2, 0, b).copy_(colour.expand({3, opt.px, b}));
  tile.slice(2, opt.px - b).copy_(colour.expand({3, opt.px, b}));
  return tile;
}

torch::Tensor compose_atlas(const std::vector<IconCell>& cells, const std::vector<torch::Tensor>& tiles, int n) {
  if (cells.size() != tiles.size()) throw Error("one tile per icon cell is needed");
  if (n < 1) throw Error("the atlas grid needs n >= 1");
  const int64_t px = tiles.empty() ? 1 : tiles.front().size(-1);
  auto atlas = torch::ones({3, n * px, n * px});
  for (size_t k = 0; k < cells.size(); ++k) {
    const auto& c = cells[k];
    if (c.xi < 0 || c.xi >= n || c.yi < 0 || c.yi >= n) throw Error("icon cell outside the grid");
    if (tiles[k].sizes() != torch::IntArrayRef{3, px, px}) throw Error("atlas tiles must share one size [3, px, px]");
    const int64_t row = (n - 1 - c.yi) * px, col = c.xi * px;
    atlas.slice(1, row, row + px).slice(2, col, col + px).copy_(tiles[k]);
  }
  return atlas;
}

std::pair<double, double> fv_colour_limits(const DoubleSource& fv, double sds) {
  const auto [mean, sd] = moments(fv);
  const double eps = std::max(1e-12, 1e-6 * std::abs(mean));
  return {std::min(mean - sds * sd, -eps), std::max(mean + sds * sd, eps)};
}

}  // namespace tension::atlas
