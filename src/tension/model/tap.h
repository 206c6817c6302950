#pragma once
// A tap names a tensor inside a model: the output of a layer ("mixed3a"), or its input ("features.4:in",
// the pre-activation when the layer is a ReLU).
#include <string>
#include <vector>

namespace tension::model {

enum class TapSide { Output, Input };

struct Tap {
  std::string layer;
  TapSide side = TapSide::Output;

  std::string str() const;  // "layer" or "layer:in"
  bool operator==(const Tap& o) const { return layer == o.layer && side == o.side; }
};

// Parses "LAYER" or "LAYER:in" (also "LAYER:out"); throws tension::Error on an empty name.
Tap parse_tap(const std::string& spec);

// Throws tension::Error naming the unknown layer and listing every valid one.
void check_layer_exists(const std::string& model_name, const std::string& layer,
                        const std::vector<std::string>& valid);

}  // namespace tension::model
