// The names of the native models and the networks behind them.
#include "tension/model/zoo/zoo.h"

#include <functional>

#include "tension/model/zoo/model.h"

namespace tension::model {

namespace {

struct ZooEntry {
  const char* name;
  std::function<std::shared_ptr<ZooNet>()> make;
};

const std::vector<ZooEntry>& zoo_table() {
  static const std::vector<ZooEntry> table = {
      {"fmnist-cnn", [] { return make_fmnist_cnn(false); }},  {"fmnist-cnn-bn", [] { return make_fmnist_cnn(true); }},
      {"inception-v1", [] { return make_inception_v1(); }},   {"vgg11", [] { return make_vgg11(false); }},
      {"vgg11-bn", [] { return make_vgg11(true); }},          {"toy-mlp", [] { return make_toy_mlp(true); }},
      {"toy-mlp-nobias", [] { return make_toy_mlp(false); }},
  };
  return table;
}

}  // namespace

std::vector<std::string> zoo_model_names() {
  std::vector<std::string> names;
  for (const auto& e : zoo_table()) names.push_back(e.name);
  return names;
}

std::unique_ptr<Model> make_zoo_model(const std::string& name, const ZooOptions& opt) {
  for (const auto& e : zoo_table()) {
    if (name != e.name) continue;
    // Default torch initialisation, made deterministic by the seed (and then overwritten by any weights).
    torch::manual_seed(opt.seed);
    return std::make_unique<NativeZooModel>(name, e.make(), opt);
  }
  return nullptr;
}

}  // namespace tension::model
