#include "tension/cli/common.h"

namespace tension::cli {

GlobalOptions& global() {
  static GlobalOptions g;
  return g;
}

void add_model_options(CLI::App* app, model::ModelSource& a, bool positional) {
  if (positional) {
    app->add_option("model", a.spec,
                    "built-in model (fmnist-cnn, fmnist-cnn-bn, inception-v1, vgg11, vgg11-bn, toy-mlp, "
                    "toy-mlp-nobias) or a TorchScript file")
        ->required();
  }
  app->add_option("--weights", a.weights,
                  "built-in models: state dict (torch.save of a dict); 'random' for a seeded random init");
  app->add_option("--seed", a.seed, "random seed")->capture_default_str();
  app->add_option("--input-size", a.input_size, "TorchScript models: input size (default 224)");
  app->add_option("--input-range", a.input_range, "TorchScript models: LO,HI that pixels in [0,1] map to");
  app->add_option("--mean", a.mean, "TorchScript models: per-channel mean, after the range")->delimiter(',');
  app->add_option("--std", a.std, "TorchScript models: per-channel std, after the range")->delimiter(',');
  app->add_option("--channels", a.channels, "TorchScript models: input channels, 1 or 3 (default 3)");
}

}  // namespace tension::cli
