#pragma once
// A trial bundle of the human MEI -> MII experiment (paper App B, Fig 9): the crops shown to participants as
// PNG files and trials.json describing every trial. `tension trials build` writes it; the experiment server,
// the simulator and the analysis read it. A bundle is a plain folder:
//   trials.json          the layers, the crops and the trials (below)
//   crops/<name>.png     one picture per crop; names say nothing of a crop's role
//   run.json             the manifest of the build
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tension::trials {

// A trial (App B): 6 example MEIs, and 9 choices: the target MEI, the target MII and 7 distractors.
constexpr size_t kExampleMeis = 6, kChoices = 9, kDistractors = 7;

// One crop: an image of the dataset cut to the feature's effective receptive field around one position of the
// layer's activation map.
struct Crop {
  std::string id;         // stable name, also the picture's file stem (crops/<id>.png)
  std::string layer;
  int64_t image = -1;     // index in the dataset
  std::string source;     // the dataset item (path or IDX index) the crop was cut from
  int64_t row = 0, col = 0;  // position in the layer's activation map
  int64_t top = 0, left = 0, bottom = 0, right = 0;  // the crop in input pixels (may reach outside the image)
  double l1 = 0;          // L1 norm of the (pre-ReLU) hidden vector at the position
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Crop, id, layer, image, source, row, col, top, left, bottom, right, l1)

// A crop in the role it plays in one trial, with the trial feature's activation (dot*cos^2) on it.
struct TrialCrop {
  std::string crop;       // Crop::id
  double activation = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(TrialCrop, crop, activation)

struct Trial {
  int64_t id = 0;            // index in Bundle::trials
  std::string layer;
  int64_t feature = 0;       // row of the layer's k-means centroids (Layer::centroids)
  std::vector<TrialCrop> examples;  // the 6 example MEIs, ranks 2-7, best first
  std::vector<TrialCrop> choices;   // the 9 choices in their seeded display order
  int64_t mei = 0;           // index in choices of the target MEI (rank 1)
  int64_t mii = 0;           // index in choices of the target MII (the lowest activation)
  // The feature's activation over every crop of the dataset (all images x positions): the distractors' window
  // is mean +- 2 sd.
  double mean = 0, sd = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Trial, id, layer, feature, examples, choices, mei, mii, mean, sd)

struct Layer {
  std::string name;          // as given to --layers
  std::string tap;           // where activations were read (pre-ReLU where the model offers it)
  int64_t channels = 0, height = 0, width = 0;
  double l1_p90 = 0;         // 90th percentile of the hidden vectors' L1 norms over every crop
  std::string centroids;     // the k-means centroids, relative to the bundle (kmeans/<layer>/centroids.npy)
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Layer, name, tap, channels, height, width, l1_p90, centroids)

struct Bundle {
  std::string dir;                 // where it was read from (not stored)
  std::string model, data;         // what it was built from (as given)
  uint64_t seed = 0;
  int cos_power = 2;
  std::vector<Layer> layers;       // in depth order
  std::vector<Crop> crops;
  std::vector<Trial> trials;       // grouped by layer, in layer order

  const Crop& crop(const std::string& id) const;           // throws tension::Error for an unknown id
  std::vector<const Trial*> layer_trials(const std::string& layer) const;
  std::string crop_path(const std::string& id) const;      // dir/crops/<id>.png
};

// Reads and checks dir/trials.json: every trial has 6 examples and 9 choices naming known crops, mei and mii
// are distinct indices into the choices, the layers are known. Throws tension::Error naming the file and the
// problem otherwise.
Bundle read_bundle(const std::string& dir);

// Writes dir/trials.json (through a temporary file, renamed).
void write_bundle(const Bundle& b, const std::string& dir);

}  // namespace tension::trials
