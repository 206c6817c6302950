#include "tension/train/train_default.h"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "tension/core/device.h"
#include "tension/core/error.h"
#include "tension/data/dataset.h"
#include "tension/model/zoo/zoo.h"

namespace tension::train {

void train_default(const TrainDefaultOptions& a, RunManifest& run) {
  run["params"] = a;
  run["params"]["optimizer"] = "Adam";
  run["params"]["loss"] = "cross-entropy";
  auto train_set = data::open_dataset(a.train_data);
  auto test_set = data::open_dataset(a.test_data);
  run["dataset"] = {{"train", a.train_data}, {"train_sha256", data::listing_hash(*train_set)},
                    {"test", a.test_data},   {"test_sha256", data::listing_hash(*test_set)}};
  std::filesystem::create_directories(a.models_dir);
  std::vector<std::string> below;
  for (const auto& name : a.models) {
    model::ZooOptions zo;
    zo.seed = a.train.seed;
    auto base = model::make_zoo_model(name, zo);
    auto* zm = dynamic_cast<model::ZooModel*>(base.get());
    if (!zm) throw Error("train-default trains built-in models; '" + name + "' is not one");
    zm->to(parse_device(a.device));
    spdlog::info("training {} on {} ({} images)", name, a.train_data, train_set->size());
    auto stats = train::train_classifier(*zm, *train_set, a.train, [&](const train::EpochStats& s) {
      spdlog::info("{} epoch {}: loss {:.4f}, train accuracy {:.4f} ({:.1f}s)", name, s.epoch, s.mean_loss,
                   s.train_accuracy, s.seconds);
    });
    auto acc = train::evaluate_accuracy(*zm, *test_set);
    spdlog::info("{} test accuracy {:.4f} ({}/{})", name, acc.accuracy, acc.correct, acc.total);
    std::string path = (std::filesystem::path(a.models_dir) / (name + ".pt")).string();
    zm->save_weights(path);
    nlohmann::json epochs = nlohmann::json::array();
    for (const auto& s : stats) {
      epochs.push_back({{"epoch", s.epoch}, {"loss", s.mean_loss}, {"train_accuracy", s.train_accuracy},
                        {"seconds", s.seconds}});
    }
    run["results"][name] = {{"test_accuracy", acc.accuracy}, {"weights", path}, {"epochs", epochs}};
    run.write("running");
    if (acc.accuracy < a.min_accuracy) below.push_back(name);
  }
  if (!below.empty()) {
    std::string msg = "test accuracy below " + std::to_string(a.min_accuracy) + " for";
    for (const auto& n : below) msg += " " + n;
    run.write("failed", msg);
    throw Error(msg);
  }
  run.write();
}

}  // namespace tension::train
