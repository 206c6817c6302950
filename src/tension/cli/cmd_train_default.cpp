// tension train-default: trains the embedded default models on Fashion-MNIST and writes their weights.
#include "tension/cli/common.h"
#include "tension/core/manifest.h"
#include "tension/train/train_default.h"

namespace tension::cli {

void register_train_default(CLI::App& app) {
  static train::TrainDefaultOptions a;
  static std::string out = "out/train-default";
  auto* cmd = app.add_subcommand("train-default", "train the default Fashion-MNIST models and save their weights");
  cmd->add_option("--models", a.models, "zoo models to train")->capture_default_str();
  cmd->add_option("--train-data", a.train_data, "training set")->capture_default_str();
  cmd->add_option("--test-data", a.test_data, "test set for the reported accuracy")->capture_default_str();
  cmd->add_option("--models-dir", a.models_dir, "where the weights are written")->capture_default_str();
  cmd->add_option("--out", out, "run folder (run.json)")->capture_default_str();
  cmd->add_option("--epochs", a.train.epochs)->capture_default_str();
  cmd->add_option("--batch-size", a.train.batch_size)->capture_default_str();
  cmd->add_option("--lr", a.train.lr, "Adam learning rate")->capture_default_str();
  cmd->add_option("--seed", a.train.seed, "seed of the initialisation and the shuffling")->capture_default_str();
  cmd->add_option("--min-accuracy", a.min_accuracy, "fail when a model's test accuracy is below this")
      ->capture_default_str();
  cmd->callback([] {
    a.device = global().device;
    RunManifest run(out, "train-default", global().argv);
    train::train_default(a, run);
  });
}

}  // namespace tension::cli
