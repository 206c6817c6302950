#include "tension/trials/trial_figure.h"

#include "tension/analysis/feature_field.h"
#include "tension/data/dataset.h"
#include "tension/render/image_grid.h"

namespace tension::trials {

namespace {

constexpr int64_t kOutline = 4;

torch::Tensor cell_of(const Bundle& b, const std::string& crop, int64_t cell) {
  auto img = data::load_image(b.crop_path(crop));
  if (img.size(0) == 1) img = img.expand({3, -1, -1});
  return analysis::crop_resized(img, {0, 0, img.size(1), img.size(2)}, cell);
}

torch::Tensor outlined(torch::Tensor img, const std::vector<float>& rgb) {
  auto colour = torch::tensor(rgb).view({3, 1, 1});
  const int64_t h = img.size(1), w = img.size(2);
  img.slice(1, 0, kOutline).copy_(colour.expand({3, kOutline, w}));
  img.slice(1, h - kOutline, h).copy_(colour.expand({3, kOutline, w}));
  img.slice(2, 0, kOutline).copy_(colour.expand({3, h, kOutline}));
  img.slice(2, w - kOutline, w).copy_(colour.expand({3, h, kOutline}));
  return img;
}

}  // namespace

torch::Tensor trial_picture(const Bundle& b, const Trial& t, int64_t cell) {
  std::vector<torch::Tensor> examples, choices;
  for (const auto& e : t.examples) examples.push_back(cell_of(b, e.crop, cell));
  for (size_t i = 0; i < t.choices.size(); ++i) {
    auto c = cell_of(b, t.choices[i].crop, cell);
    if (static_cast<int64_t>(i) == t.mei) c = outlined(c, {0.1f, 0.65f, 0.2f});
    if (static_cast<int64_t>(i) == t.mii) c = outlined(c, {0.95f, 0.55f, 0.0f});
    choices.push_back(c);
  }
  render::GridOptions g;
  g.columns = 2;
  g.padding = 6;
  auto left = render::image_grid(torch::stack(examples), g);
  g.columns = 3;
  auto right = render::image_grid(torch::stack(choices), g);
  // Side by side, top-aligned, with a gap as wide as a cell's padding between them.
  const int64_t h = std::max(left.size(1), right.size(1)), gap = 4 * g.padding;
  auto out = torch::ones({3, h, left.size(2) + gap + right.size(2)});
  out.slice(1, 0, left.size(1)).slice(2, 0, left.size(2)).copy_(left);
  out.slice(1, 0, right.size(1)).slice(2, left.size(2) + gap).copy_(right);
  return out;
}

}  // namespace tension::trials
