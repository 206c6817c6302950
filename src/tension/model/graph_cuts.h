#pragma once
// Which taps are cuts: tensors that every path from the input to a target passes through (paper §2, App. E:
// completeness E_l = f_v holds only where the whole signal crosses layer l). Read from the autograd graph of one
// differentiable forward, so it holds for every frontend and architecture (branches, skip connections), not
// from layer names.
#include <string>
#include <vector>

#include "tension/model/model.h"

namespace tension::model {

struct TapCut {
  Tap tap;
  bool upstream = false;     // the target depends on the tap (and is not the tap itself)
  bool cut = false;          // every input-to-target path passes through the tap
  bool post_relu = false;    // a ReLU output, or a concatenation of ReLU outputs (an inception block)
  int relus_before = 0;      // ReLU operations the tap's value depends on, its own included
  std::string same_as;       // an earlier-listed tap holding the same value (a container and its last child)
  // The attribution layer of a feature read here (paper §6: "the preceding layer"): the nearest post-ReLU tap
  // that every path from the input to this tap crosses (its first-listed name); empty when there is none.
  std::string preceding_cut;
};

struct CutAnalysis {
  std::vector<TapCut> taps;  // every layer output of the model in the model's layer order, then the extra taps
  int total_relus = 0;       // ReLU operations on the way to the model output, branches included
};

// Cuts with respect to `target` (a layer's output or input tap; unset: the model's output). A tap that the
// target does not depend on, or the target's own value, is not a cut. `extra` taps (e.g. "LAYER:in") are
// analysed too. One forward, at the model's input size.
CutAnalysis analyse_cuts(Model& model, const Tap* target = nullptr, const std::vector<Tap>& extra = {});

// App. E depth of a tap: ReLUs before it over all ReLUs of the model, in [0, 1] (0 for the pixels).
double relu_depth(const TapCut& t, const CutAnalysis& a);

}  // namespace tension::model
