#pragma once
// What every subcommand shares: global options, model options, and the error boundary.
#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tension/analysis/completeness.h"
#include "tension/analysis/weight_signs.h"
#include "tension/core/manifest.h"
#include "tension/model/registry.h"

namespace tension::cli {

struct GlobalOptions {
  int threads = 0;            // 0 = hardware threads
  std::string device = "cpu";
  std::string log_level = "info";
  std::vector<std::string> argv;  // the full command line, for run manifests
};
GlobalOptions& global();

struct ModelArgs {
  std::string spec;
  std::string weights;
  uint64_t seed = 0;
  std::optional<int64_t> input_size;
  std::string input_range;    // "LO,HI"
  std::vector<double> mean, std;
  std::optional<int64_t> channels;
};

// Adds the MODEL positional and --weights/--seed/--input-size/--input-range/--mean/--std/--channels.
void add_model_options(CLI::App* app, ModelArgs& args, bool positional = true);
std::unique_ptr<model::Model> load_model(const ModelArgs& args);
torch::Device parse_device(const std::string& s);

// Each subcommand registers itself on the app; its callback runs when it is chosen.
void register_layers(CLI::App& app);
void register_train_default(CLI::App& app);
void register_eval(CLI::App& app);
void register_demo(CLI::App& app);
void register_attribute(CLI::App& app);
void register_export(CLI::App& app);
void register_completeness(CLI::App& app);
void register_weights(CLI::App& app);

// Figures and tables shared by a subcommand and the demo.
void write_completeness_outputs(const std::vector<analysis::CompletenessResult>& results, RunManifest& run);
void write_weight_outputs(const std::vector<analysis::WeightSigns>& all, RunManifest& run);

}  // namespace tension::cli
