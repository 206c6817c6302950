#include "tension/model/tap.h"

#include <algorithm>

#include "tension/core/error.h"

namespace tension::model {

std::string Tap::str() const { return side == TapSide::Input ? layer + ":in" : layer; }

Tap parse_tap(const std::string& spec) {
  Tap t;
  auto colon = spec.rfind(':');
  std::string suffix = colon == std::string::npos ? "" : spec.substr(colon + 1);
  if (suffix == "in" || suffix == "out") {
    t.layer = spec.substr(0, colon);
    t.side = suffix == "in" ? TapSide::Input : TapSide::Output;
  } else {
    t.layer = spec;
  }
  if (t.layer.empty()) throw Error("empty layer name in tap '" + spec + "'");
  return t;
}

void check_layer_exists(const std::string& model_name, const std::string& layer,
                        const std::vector<std::string>& valid) {
  if (std::find(valid.begin(), valid.end(), layer) != valid.end()) return;
  std::string msg = "unknown layer '" + layer + "' in model " + model_name + "; valid layers:";
  for (const auto& v : valid) msg += " " + v;
  throw Error(msg);
}

}  // namespace tension::model
