#include "tension/data/preprocess.h"

#include "tension/core/error.h"
#include "tension/model/input_range.h"

namespace tension::data {

namespace {

// PIL's "L" conversion weights (ITU-R 601-2 luma), on floats (PIL rounds the result to 8 bits).
torch::Tensor rgb_to_grey(const torch::Tensor& rgb) {
  return (rgb[0] * 0.299 + rgb[1] * 0.587 + rgb[2] * 0.114).unsqueeze(0);
}

// Python's round() rounds halves to even; torchvision's center_crop offsets use it.
int64_t half_diff_rounded_to_even(int64_t diff) {
  int64_t half = diff / 2;
  return (diff % 2 == 1 && half % 2 == 1) ? half + 1 : half;
}

// The centred square of side min(h, w), placed like torchvision's center_crop.
torch::Tensor largest_centre_crop(const torch::Tensor& img) {
  int64_t h = img.size(1), w = img.size(2), side = std::min(h, w);
  return img.narrow(1, half_diff_rounded_to_even(h - side), side).narrow(2, half_diff_rounded_to_even(w - side), side);
}

// torchvision's tensor Resize(antialias=True): bilinear, align_corners=False, antialiased when shrinking.
torch::Tensor resize(const torch::Tensor& img, int64_t height, int64_t width) {
  if (img.size(1) == height && img.size(2) == width) return img;
  namespace F = torch::nn::functional;
  auto opt = F::InterpolateFuncOptions()
                 .size(std::vector<int64_t>{height, width})
                 .mode(torch::kBilinear)
                 .align_corners(false)
                 .antialias(true);
  return F::interpolate(img.unsqueeze(0), opt).squeeze(0);
}

}  // namespace

torch::Tensor preprocess(const torch::Tensor& img, const model::InputSpec& spec) {
  model::check_input_spec(spec);
  if (img.dim() != 3 || (img.size(0) != 1 && img.size(0) != 3))
    throw Error("preprocess: expected an image [C, H, W] with C = 1 or 3, got sizes " + c10::str(img.sizes()));
  // Convert channels where the image has the fewest: RGB -> grey before the resize, grey -> RGB after it.
  torch::Tensor x = img.to(torch::kFloat);
  if (spec.channels == 1 && x.size(0) == 3) x = rgb_to_grey(x);
  x = resize(largest_centre_crop(x), spec.height, spec.width);
  if (spec.channels == 3 && x.size(0) == 1) x = x.expand({3, -1, -1});
  return model::to_model_range(x, spec).contiguous();
}


torch::Tensor to_canvas(const torch::Tensor& img, int64_t channels, int64_t side) {
  model::InputSpec canvas;
  canvas.channels = channels;
  canvas.height = canvas.width = side;
  return preprocess(img, canvas);
}

}  // namespace tension::data
