#include "tension/store/run_inputs.h"

#include "tension/core/error.h"
#include "tension/core/json.h"
#include "tension/model/model_source.h"

namespace tension::store {

namespace {

size_t index_in(const nlohmann::json& list, const std::string& which, const std::string& what) {
  if (!which.empty() && which.find_first_not_of("0123456789") == std::string::npos) {
    size_t i = std::stoul(which);
    if (i < list.size()) return i;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    if (list[i].get<std::string>() == which) return i;
  }
  throw Error("the run has no " + what + " '" + which + "'; it has: " + list.dump());
}

}  // namespace

RunInputs open_run_inputs(const std::string& run_dir, const std::string& device) {
  RunInputs r;
  r.store = RunStore::open(run_dir);
  const auto& cfg = r.store->config();
  if (!cfg.contains("model") || !cfg["model"].is_object() || !cfg["model"].contains("weights_file")) {
    throw Error("run " + run_dir + " was made by an older tension: run `tension attribute` again");
  }
  auto source = cfg["model"].get<model::ModelSource>();
  source.device = device;
  r.model = model::load_model(source);
  if (r.model->weights_id() != cfg.value("model_weights", "")) {
    throw Error("the weights of " + cfg["model"]["spec"].get<std::string>() + " changed since run " + run_dir +
                " was made (" + r.model->weights_id() + ", the run has " + cfg.value("model_weights", "") + ")");
  }
  r.data = data::open_dataset(cfg["data"]["spec"].get<std::string>());
  if (data::listing_hash(*r.data) != cfg["data"]["listing_sha256"].get<std::string>()) {
    throw Error("the dataset " + cfg["data"]["spec"].get<std::string>() + " changed since run " + run_dir +
                " was made");
  }
  return r;
}

size_t run_feature_index(const RunStore& st, const std::string& which) {
  return index_in(st.config()["features"], which, "feature");
}

size_t run_layer_index(const RunStore& st, const std::string& which) {
  return index_in(st.config()["layers"], which, "layer");
}

RunTarget open_run_target(const std::string& run_dir, const std::string& device, const std::string& feature,
                          const std::string& layer, const nlohmann::json& params, RunManifest& run) {
  RunTarget t;
  t.in = open_run_inputs(run_dir, device);
  t.feature = run_feature_index(*t.in.store, feature);
  t.layer = run_layer_index(*t.in.store, layer);
  run["params"] = params;
  run["params"]["feature"] = t.in.store->config()["features"][t.feature];
  run["params"]["layer"] = t.in.store->config()["layers"][t.layer];
  run["run_config"] = t.in.store->config();
  run.write("running");
  return t;
}

}  // namespace tension::store
