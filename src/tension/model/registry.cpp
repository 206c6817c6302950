#include "tension/model/registry.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "tension/core/error.h"
#include "tension/model/torchscript/model.h"
#include "tension/model/zoo/zoo.h"

namespace tension::model {

namespace fs = std::filesystem;

std::string models_dir() {
  if (const char* env = std::getenv("TENSION_MODELS"); env && *env) return env;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (fs::path cand : {exe.parent_path().parent_path() / "models",
                          exe.parent_path().parent_path() / "share" / "tension" / "models"}) {
      if (fs::is_directory(cand)) return cand.string();
    }
  }
  return (fs::path(TENSION_SOURCE_DIR) / "models").string();
}

namespace {

std::unique_ptr<Model> load_zoo(const std::string& spec, const LoadOptions& opt) {
  ZooOptions zo;
  zo.seed = opt.seed;
  zo.weights = opt.weights;
  if (zo.weights.empty()) {
    // The embedded default models ship trained weights; the others start from a seeded random init.
    fs::path committed = fs::path(models_dir()) / (spec + ".pt");
    if (fs::exists(committed)) zo.weights = committed.string();
  } else if (zo.weights == "random") {
    zo.weights.clear();
  }
  auto m = make_zoo_model(spec, zo);
  if (m && (opt.input_size || opt.input_range || !opt.mean.empty() || opt.channels)) {
    spdlog::warn("{} carries its own preprocessing; --input-size/--input-range/--mean/--std are ignored", spec);
  }
  return m;
}

InputSpec torchscript_input(const LoadOptions& opt) {
  InputSpec in;
  in.channels = opt.channels.value_or(3);
  in.height = in.width = opt.input_size.value_or(224);
  if (opt.input_range) std::tie(in.range_lo, in.range_hi) = *opt.input_range;
  in.mean = opt.mean;
  in.std = opt.std;
  if (in.mean.size() != in.std.size() ||
      (!in.mean.empty() && static_cast<int64_t>(in.mean.size()) != in.channels)) {
    throw Error("--mean and --std need one value per input channel (" + std::to_string(in.channels) + ")");
  }
  for (double s : in.std) {
    if (s <= 0) throw Error("--std values must be positive");
  }
  return in;
}

}  // namespace

std::unique_ptr<Model> load_model(const std::string& spec, const LoadOptions& opt) {
  std::unique_ptr<Model> m = load_zoo(spec, opt);
  if (!m) {
    if (!fs::exists(spec)) {
      std::string names;
      for (const auto& n : zoo_model_names()) names += " " + n;
      throw Error("unknown model '" + spec + "': not a file, and not one of the built-in models:" + names);
    }
    m = load_torchscript(spec, torchscript_input(opt));
  }
  m->to(opt.device);
  return m;
}

}  // namespace tension::model
