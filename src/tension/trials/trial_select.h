#pragma once
// The choice of a layer's trials from the activations of its features (paper App B, reference:
// docs/paper-code.md "Human experiment"): target MEI, example MEIs, target MII and distractors per feature,
// under the layer-wide rules that no crop is used twice as an MII or distractor and that no image gives crops at
// two positions. Plain data in, plain data out: the dataset pass that measures the candidates is trials_build's.
#include <cstdint>
#include <string>
#include <vector>

namespace tension::trials {

// A crop: image `image` at position (row, col) of the layer's activation map.
struct Candidate {
  int64_t image = 0, row = 0, col = 0;
  double activation = 0;  // the feature's dot*cos^2 there
  double l1 = 0;          // L1 norm of the hidden vector there
};

struct FeatureCandidates {
  int64_t feature = 0;            // row of the layer's centroids
  double mean = 0, sd = 0;        // of the activation over every crop (images x positions)
  std::vector<Candidate> top;     // each image's highest crop, highest first (ties: image, then position)
  std::vector<Candidate> bottom;  // each image's lowest crop, lowest first
  // Crops with |activation - mean| <= 2 sd and l1 >= the layer's 90th percentile, in a seeded random order.
  std::vector<Candidate> distractors;
};

struct SelectedTrial {
  int64_t feature = 0;
  Candidate mei;                  // target MEI (rank 1)
  std::vector<Candidate> examples;  // ranks 2-7
  Candidate mii;                  // target MII
  std::vector<Candidate> distractors;  // 7
};

// One trial per feature, in the order given. Greedy in that order: each feature takes its best crops that keep
// the layer's rules (an image already shown at another position is skipped, so a later feature's "argmax" is
// the best crop left). Throws tension::Error naming the layer, the feature and the rule that could not be met
// (too few images, or too few crops in the distractor window).
std::vector<SelectedTrial> select_trials(const std::string& layer, const std::vector<FeatureCandidates>& features);

}  // namespace tension::trials
