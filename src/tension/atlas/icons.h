#pragma once
// The atlas's icons (paper §5; docs/paper-code.md §2.11 stage 3): per icon cell, an inversion from
// noise toward |S̄|, the mean attribution of the cell's images, with dot*cos^2 (eq. 5), many icons per
// optimisation batch, and each icon's own f_v measured by passing it through the model. Finished batches are
// kept on disk, so an interrupted icon stage resumes with the icons already made.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "tension/feature/feature.h"
#include "tension/model/model.h"
#include "tension/model/receptive_field.h"

namespace tension::atlas {

struct IconOptions {
  int64_t steps = 202;         // the paper code's icon recipe: Adam lr 0.06, 202 steps, one transformation per step
  double lr = 0.06;
  int64_t draws = 1;
  int cos_power = 2;
  int64_t batch = 30;          // icons per optimisation batch
  int64_t canvas = 0;          // canvas side; 0: viz::default_canvas of the model's input (512 for 224)
  std::string param = "maco";  // maco (needs spectrum), fourier or pixel
  torch::Tensor spectrum;      // MACO: [C, h, w'] (viz/spectrum.h)
  double opacity_clip = 10;    // the paper code's trans_p for icons
  uint64_t seed = 0;
  bool progress = true;
};

struct Icon {
  torch::Tensor image;   // [C, S, S] in (0, 1), the whole canvas
  torch::Tensor alpha;   // [1, S, S] opacity in [0, 1]
  double fv = 0;         // the feature on the icon (resized to the model's input, untransformed)
};

// The target of an icon cell: the mean of its images' S [k, C, h, w], L2-normalised over C*h*w, absolute value.
torch::Tensor icon_target(const torch::Tensor& s_points);

// Where the icon stage keeps finished batches (RUN/icons); empty: nowhere.
struct IconCache {
  std::string dir;
};

// Icons toward `targets` (each [C, h, w], at `layer` over `footprint`) for feature f. Batch b holds targets
// [b * batch, (b + 1) * batch) and starts from seed + b, so a resumed stage makes the same icons as an
// uninterrupted one; a cached batch is used when its targets and options are unchanged. Returns the number of
// batches rendered (not cached) through `rendered` when given. In an MPI job with a cache, the ranks share the
// batches (the same seeds, so the same icons) and rank 0 returns them all; the other ranks return none.
std::vector<Icon> render_icons(model::Model& m, const feature::Feature& f, const model::Tap& layer,
                               const model::Box& footprint, const std::vector<torch::Tensor>& targets,
                               const IconOptions& opt, const IconCache& cache = {}, size_t* rendered = nullptr);

}  // namespace tension::atlas
