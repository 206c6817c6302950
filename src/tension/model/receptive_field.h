#pragma once
// Receptive fields and footprints: the positions of the input (or of an earlier layer) on which a unit's value
// depends. From layer arithmetic (layer_arithmetic.h) where every op on the way is a convolution, pooling,
// padding or positionwise op; otherwise, and on request, from gradient supports over random inputs, as the
// paper's code does (docs/paper-code.md §2.7), which holds for any architecture.
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tension/model/model.h"

namespace tension::model {

// Half-open pixel box [top, bottom) x [left, right).
struct Box {
  int64_t top = 0, left = 0, bottom = 0, right = 0;
  int64_t height() const { return bottom - top; }
  int64_t width() const { return right - left; }
  bool operator==(const Box& o) const {
    return top == o.top && left == o.left && bottom == o.bottom && right == o.right;
  }
};

// As runs record a box: [top, left, bottom, right].
void to_json(nlohmann::json& j, const Box& b);

// Bounding box of the entries of a [H, W] map above `threshold` (the map is all-zero -> empty box).
Box support_box(const torch::Tensor& map2d, double threshold = 0.0);

// b grown to a square (the shorter side padded on both sides, clamped to the image), within [0, h) x [0, w).
// An empty b stays empty.
Box square_box(Box b, int64_t h, int64_t w);

// b on an h x w grid moved to a to_h x to_w grid (the paper code's scale_crop_bounds: scaled and rounded),
// at least one pixel, inside the grid.
Box scale_box(const Box& b, int64_t h, int64_t w, int64_t to_h, int64_t to_w);

enum class FieldMethod {
  arithmetic,  // layer arithmetic from one forward; gradient supports where it does not cover an op
  gradient,    // gradient supports only (`tension layers --rf gradient`)
};

struct ReceptiveFieldOptions {
  int64_t samples = 8;     // random inputs whose gradient supports are united (ReLUs and max-pools gate paths)
  uint64_t seed = 0;
  FieldMethod method = FieldMethod::arithmetic;
};

NLOHMANN_JSON_SERIALIZE_ENUM(FieldMethod, {{FieldMethod::arithmetic, "arithmetic"}, {FieldMethod::gradient, "gradient"}})
const char* to_string(FieldMethod m);

struct TapGeometry {
  Tap tap;
  std::vector<int64_t> shape;   // shape of the tapped tensor for one input at the model's input size
  bool spatial = false;         // [C, H, W]: has positions
  int64_t row = 0, col = 0;     // the centre position (H//2, W//2) used for `rf`
  Box rf;                       // receptive field of the centre unit in input pixels
  FieldMethod method = FieldMethod::arithmetic;  // how rf was found
  std::string error;            // non-empty when the tap could not be computed
};

// Shapes and centre-unit receptive fields of many taps: from one forward pass where layer arithmetic covers a
// tap, otherwise (or with FieldMethod::gradient) from one backward per tap over opt.samples random inputs.
std::vector<TapGeometry> tap_geometry(Model& model, const std::vector<Tap>& taps,
                                      const ReceptiveFieldOptions& opt = {});

// `opt.samples` random images at the model's input size, in its input range, on its device.
torch::Tensor random_inputs(const Model& model, const ReceptiveFieldOptions& opt);

// Maps a tapped activation [N, ...] to one value per sample [N] (a unit, a feature readout).
using Readout = std::function<torch::Tensor(const torch::Tensor&)>;

// A readout of a tapped activation whose dependence on earlier layers is asked for.
struct SupportQuery {
  Tap target;
  Readout readout;
  // The target's positions the readout reads ([C, H, W] activation [N, ...] -> box of its grid), for layer
  // arithmetic; unset: gradient supports only.
  std::function<Box(const torch::Tensor&)> positions;
};

// For every query and source, the box of the positions of the source (a spatial tap; the input pixels when
// unset) on which the query's readout depends: the support of its gradient, united over random inputs at the
// model's input size. One forward pass and one backward pass per query. boxes[q][s] is empty where the readout
// does not depend on the source, or the source has no positions.
std::vector<std::vector<Box>> gradient_supports(Model& model, const std::vector<SupportQuery>& queries,
                                                const std::vector<std::optional<Tap>>& sources,
                                                const ReceptiveFieldOptions& opt = {});

// As gradient_supports, from layer arithmetic for the queries with positions where it covers every op between
// source and target (one forward of one input), from gradient supports for the others.
std::vector<std::vector<Box>> supports(Model& model, const std::vector<SupportQuery>& queries,
                                       const std::vector<std::optional<Tap>>& sources,
                                       const ReceptiveFieldOptions& opt = {});

// The sum over channels at position (row, col) of a spatial tap's activation t [N, C, H, W]: the unit whose
// field every channel at that position shares. Throws tension::Error for a tap without positions or a position
// outside it.
torch::Tensor unit_at(const torch::Tensor& t, const Tap& tap, int64_t row, int64_t col);

// Receptive field of unit (row, col) of a spatial tap, in input pixels at the model's input size.
Box receptive_field(Model& model, const Tap& tap, int64_t row, int64_t col,
                    const ReceptiveFieldOptions& opt = {});

}  // namespace tension::model
