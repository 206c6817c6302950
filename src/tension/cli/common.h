#pragma once
// What every subcommand shares: the global options and the model options. A command binds its options into the
// library's options struct and calls the library's entry point for it; main.cpp is the error boundary.
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "tension/model/model_source.h"

namespace tension::cli {

struct GlobalOptions {
  int threads = 0;            // 0 = hardware threads
  std::string device = "cpu";
  std::string log_level = "info";
  std::vector<std::string> argv;  // the full command line, for run manifests
};
GlobalOptions& global();

// Adds the MODEL positional and --weights/--seed/--input-size/--input-range/--mean/--std/--channels.
void add_model_options(CLI::App* app, model::ModelSource& source, bool positional = true);

// Each subcommand registers itself on the app; its callback runs when it is chosen.
void register_layers(CLI::App& app);
void register_train_default(CLI::App& app);
void register_eval(CLI::App& app);
void register_demo(CLI::App& app);
void register_attribute(CLI::App& app);
void register_export(CLI::App& app);
void register_merge(CLI::App& app);
void register_completeness(CLI::App& app);
void register_weights(CLI::App& app);
void register_select(CLI::App& app);
void register_kmeans(CLI::App& app);
void register_visualize(CLI::App& app);
void register_spectrum(CLI::App& app);
void register_toy(CLI::App& app);
void register_atlas(CLI::App& app);
void register_inversion_check(CLI::App& app);
void register_uniqueness(CLI::App& app);
// `tension trials` (the human experiment, paper App B) and its subcommands, each in its own cmd_trials_*.cpp.
void register_trials(CLI::App& app);
void register_trials_build(CLI::App* trials);
void register_trials_serve(CLI::App* trials);     // serve, export and simulate
void register_trials_analyze(CLI::App* trials);

}  // namespace tension::cli
