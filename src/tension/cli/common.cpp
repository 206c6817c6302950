#include "tension/cli/common.h"

#include <filesystem>

#include "tension/core/device.h"
#include "tension/core/error.h"

namespace tension::cli {

GlobalOptions& global() {
  static GlobalOptions g;
  return g;
}

void add_model_options(CLI::App* app, ModelArgs& a, bool positional) {
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

torch::Device parse_device(const std::string& s) {
  torch::Device d = torch::kCPU;
  try {
    d = torch::Device(s);
  } catch (const c10::Error&) {
    throw Error("unknown device '" + s + "' (use cpu, cuda or cuda:N)");
  }
  if (d.is_cuda() && !torch::cuda::is_available()) {
    throw Error("--device " + s + " asked for, but this LibTorch build or machine has no CUDA device");
  }
  configure_device(d);
  return d;
}

nlohmann::json model_args_json(const ModelArgs& a) {
  auto absolute = [](const std::string& p) {
    return p.empty() || !std::filesystem::exists(p) ? p : std::filesystem::absolute(p).string();
  };
  nlohmann::json j = {{"spec", absolute(a.spec)}, {"weights_file", absolute(a.weights)}, {"seed", a.seed},
                      {"input_range", a.input_range}, {"mean", a.mean}, {"std", a.std}};
  j["input_size"] = a.input_size ? nlohmann::json(*a.input_size) : nlohmann::json();
  j["channels"] = a.channels ? nlohmann::json(*a.channels) : nlohmann::json();
  return j;
}

ModelArgs model_args_from_json(const nlohmann::json& j) {
  ModelArgs a;
  try {
    a.spec = j.at("spec").get<std::string>();
    a.weights = j.value("weights_file", "");
    a.seed = j.value("seed", uint64_t{0});
    a.input_range = j.value("input_range", "");
    a.mean = j.value("mean", std::vector<double>{});
    a.std = j.value("std", std::vector<double>{});
    if (j.contains("input_size") && !j["input_size"].is_null()) a.input_size = j["input_size"].get<int64_t>();
    if (j.contains("channels") && !j["channels"].is_null()) a.channels = j["channels"].get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("the run's model record is incomplete (made by an older tension?): ") + e.what());
  }
  return a;
}

std::unique_ptr<model::Model> load_model(const ModelArgs& a) {
  model::LoadOptions lo;
  lo.weights = a.weights;
  lo.seed = a.seed;
  lo.device = parse_device(global().device);
  lo.input_size = a.input_size;
  lo.channels = a.channels;
  lo.mean = a.mean;
  lo.std = a.std;
  if (!a.input_range.empty()) {
    double lo_v, hi_v;
    char comma;
    std::istringstream s(a.input_range);
    if (!(s >> lo_v >> comma >> hi_v) || comma != ',' || lo_v >= hi_v) {
      throw Error("--input-range takes LO,HI with LO < HI, got '" + a.input_range + "'");
    }
    lo.input_range = std::make_pair(lo_v, hi_v);
  }
  if (lo.channels && *lo.channels != 1 && *lo.channels != 3) throw Error("--channels must be 1 or 3");
  return model::load_model(a.spec, lo);
}

}  // namespace tension::cli
