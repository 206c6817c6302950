#include "tension/model/model_source.h"

#include <filesystem>
#include <sstream>

#include "tension/core/device.h"
#include "tension/core/error.h"
#include "tension/core/json.h"
#include "tension/model/registry.h"

namespace tension::model {

std::unique_ptr<Model> load_model(const ModelSource& s) {
  LoadOptions lo;
  lo.weights = s.weights;
  lo.seed = s.seed;
  lo.device = parse_device(s.device);
  lo.input_size = s.input_size;
  lo.channels = s.channels;
  lo.mean = s.mean;
  lo.std = s.std;
  if (!s.input_range.empty()) {
    double lo_v, hi_v;
    char comma;
    std::istringstream in(s.input_range);
    if (!(in >> lo_v >> comma >> hi_v) || comma != ',' || lo_v >= hi_v) {
      throw Error("--input-range takes LO,HI with LO < HI, got '" + s.input_range + "'");
    }
    lo.input_range = std::make_pair(lo_v, hi_v);
  }
  if (lo.channels && *lo.channels != 1 && *lo.channels != 3) throw Error("--channels must be 1 or 3");
  return load_model(s.spec, lo);
}

void to_json(nlohmann::json& j, const ModelSource& s) {
  auto absolute = [](const std::string& p) {
    return p.empty() || !std::filesystem::exists(p) ? p : std::filesystem::absolute(p).string();
  };
  j = {{"spec", absolute(s.spec)}, {"weights_file", absolute(s.weights)}, {"seed", s.seed},
       {"input_range", s.input_range}, {"mean", s.mean}, {"std", s.std}, {"input_size", s.input_size},
       {"channels", s.channels}};
}

void from_json(const nlohmann::json& j, ModelSource& s) {
  try {
    s.spec = j.at("spec").get<std::string>();
    s.weights = j.value("weights_file", "");
    s.seed = j.value("seed", uint64_t{0});
    s.input_range = j.value("input_range", "");
    s.mean = j.value("mean", std::vector<double>{});
    s.std = j.value("std", std::vector<double>{});
    if (j.contains("input_size")) j["input_size"].get_to(s.input_size);
    if (j.contains("channels")) j["channels"].get_to(s.channels);
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("the run's model record is incomplete (made by an older tension?): ") + e.what());
  }
}

}  // namespace tension::model
