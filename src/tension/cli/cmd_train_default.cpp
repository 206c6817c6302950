// tension train-default: trains the embedded default models on Fashion-MNIST and writes their weights.
#include <spdlog/spdlog.h>

#include <filesystem>

#include "tension/cli/common.h"
#include "tension/core/error.h"
#include "tension/core/manifest.h"
#include "tension/data/dataset.h"
#include "tension/model/zoo/zoo.h"
#include "tension/train/classifier.h"

namespace tension::cli {

void register_train_default(CLI::App& app) {
  struct Args {
    std::vector<std::string> models{"fmnist-cnn", "fmnist-cnn-bn"};
    std::string train_data = "fashion-mnist:train", test_data = "fashion-mnist:test";
    std::string models_dir = model::models_dir();
    std::string out = "out/train-default";
    train::TrainOptions train;
    double min_accuracy = 0.90;
  };
  static Args a;
  auto* cmd = app.add_subcommand("train-default", "train the default Fashion-MNIST models and save their weights");
  cmd->add_option("--models", a.models, "zoo models to train")->capture_default_str();
  cmd->add_option("--train-data", a.train_data, "training set")->capture_default_str();
  cmd->add_option("--test-data", a.test_data, "test set for the reported accuracy")->capture_default_str();
  cmd->add_option("--models-dir", a.models_dir, "where the weights are written")->capture_default_str();
  cmd->add_option("--out", a.out, "run folder (run.json)")->capture_default_str();
  cmd->add_option("--epochs", a.train.epochs)->capture_default_str();
  cmd->add_option("--batch-size", a.train.batch_size)->capture_default_str();
  cmd->add_option("--lr", a.train.lr, "Adam learning rate")->capture_default_str();
  cmd->add_option("--seed", a.train.seed, "seed of the initialisation and the shuffling")->capture_default_str();
  cmd->add_option("--min-accuracy", a.min_accuracy, "fail when a model's test accuracy is below this")
      ->capture_default_str();
  cmd->callback([] {
    RunManifest run(a.out, "train-default", global().argv);
    run["params"] = {{"epochs", a.train.epochs}, {"batch_size", a.train.batch_size}, {"lr", a.train.lr},
                     {"seed", a.train.seed},     {"optimizer", "Adam"},              {"loss", "cross-entropy"}};
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
      zm->to(parse_device(global().device));
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
  });
}

}  // namespace tension::cli
