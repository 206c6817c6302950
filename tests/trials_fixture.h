#pragma once
// A synthetic trial bundle for the tests of the human experiment (server, page, simulator, analysis): no model,
// no dataset; every crop a small flat colour of its own, every trial valid for read_bundle.
#include <fmt/format.h>
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tension/render/image_grid.h"
#include "tension/trials/bundle.h"

namespace tension::testing {

// Writes dir/trials.json and dir/crops/<id>.png: `trials_per_layer` trials for each layer, grouped by layer in
// the order given, each with 6 example crops and 9 choice crops of its own (ids c00000, c00001, ...). The MEI of
// trial t is choice (2 t) mod 9 and its MII choice (4 t + 1) mod 9, moved one on where they meet, so both roles
// visit every position. Returns the bundle as written.
inline trials::Bundle write_synthetic_bundle(const std::string& dir,
                                             const std::vector<std::string>& layers = {"conv1", "conv2", "conv3"},
                                             int64_t trials_per_layer = 15) {
  constexpr int64_t kSide = 12;
  std::filesystem::create_directories(dir + "/crops");
  trials::Bundle b;
  b.dir = dir;
  b.model = "synthetic";
  b.data = "synthetic";
  b.seed = 1;
  for (const auto& name : layers) {
    trials::Layer l;
    l.name = name;
    l.tap = name;
    l.channels = 8;
    l.height = l.width = 4;
    l.l1_p90 = 1;
    l.centroids = "kmeans/" + name + "/centroids.npy";
    b.layers.push_back(l);
  }
  int64_t next_crop = 0;
  auto new_crop = [&](const std::string& layer, double activation) {
    trials::Crop c;
    c.id = fmt::format("c{:05d}", next_crop);
    c.layer = layer;
    c.image = next_crop;
    c.source = "synthetic#" + std::to_string(next_crop);
    c.bottom = c.right = kSide;
    c.l1 = 1;
    // A distinct flat colour per crop: three digits in base 7 of the crop's number.
    const int64_t n = next_crop++;
    const auto rgb = torch::tensor(
        {static_cast<float>(n % 7) / 6, static_cast<float>((n / 7) % 7) / 6, static_cast<float>((n / 49) % 7) / 6});
    render::write_png(dir + "/crops/" + c.id + ".png", rgb.view({3, 1, 1}).expand({3, kSide, kSide}).contiguous());
    b.crops.push_back(c);
    return trials::TrialCrop{c.id, activation};
  };
  for (const auto& name : layers) {
    for (int64_t k = 0; k < trials_per_layer; ++k) {
      trials::Trial t;
      t.id = static_cast<int64_t>(b.trials.size());
      t.layer = name;
      t.feature = k;
      t.mean = 0;
      t.sd = 1;
      for (int e = 0; e < 6; ++e) t.examples.push_back(new_crop(name, 9 - e));
      t.mei = (2 * t.id) % 9;
      t.mii = (4 * t.id + 1) % 9;
      if (t.mii == t.mei) t.mii = (t.mii + 1) % 9;
      for (int64_t c = 0; c < 9; ++c) {
        t.choices.push_back(new_crop(name, c == t.mei ? 10.0 : c == t.mii ? -10.0 : 0.1 * static_cast<double>(c)));
      }
      b.trials.push_back(t);
    }
  }
  trials::write_bundle(b, dir);
  return b;
}

}  // namespace tension::testing
