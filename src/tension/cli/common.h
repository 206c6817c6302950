#pragma once
// What every subcommand shares: global options, model options, and the error boundary.
#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tension/core/manifest.h"
#include "tension/data/dataset.h"
#include "tension/model/registry.h"
#include "tension/store/attribution_pass.h"
#include "tension/render/html_page.h"

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
// The model options as a run records them (paths made absolute), and back: later commands rebuild a run's model.
nlohmann::json model_args_json(const ModelArgs& args);
ModelArgs model_args_from_json(const nlohmann::json& j);
torch::Device parse_device(const std::string& s);

// `tension attribute` as a function (the demo runs it too).
struct AttributeArgs {
  ModelArgs model;
  std::string data, out;
  std::vector<std::string> features, layers;
  int cos_power = 0;
  store::PassOptions pass;
};
void attribute_run(const AttributeArgs& args);

// Each subcommand registers itself on the app; its callback runs when it is chosen.
void register_layers(CLI::App& app);
void register_train_default(CLI::App& app);
void register_eval(CLI::App& app);
void register_demo(CLI::App& app);
void register_attribute(CLI::App& app);
void register_export(CLI::App& app);
void register_completeness(CLI::App& app);
void register_weights(CLI::App& app);
void register_select(CLI::App& app);
void register_kmeans(CLI::App& app);
void register_visualize(CLI::App& app);
void register_spectrum(CLI::App& app);
void register_toy(CLI::App& app);
void register_atlas(CLI::App& app);
void register_inversion_check(CLI::App& app);

// The demo's selection section (Fig 2, Fig 4): runs on the first `images` of data with the default model.
void selection_section(const std::string& data, const std::string& model_name, size_t images, uint64_t seed,
                       RunManifest& run, render::HtmlPage& page);

// The demo's feature-visualisation section (Fig. 5, Fig. 14) on model m (the default) and the dataset.
void visualization_section(const data::Dataset& ds, model::Model& m, uint64_t seed, RunManifest& run,
                           render::HtmlPage& page);

// The demo's App. F section (Fig. 14): the inversion check on model m (the default) and the dataset.
void inversion_section(const data::Dataset& ds, model::Model& m, uint64_t seed, RunManifest& run,
                       render::HtmlPage& page);

// The demo's atlas section (Fig. 6): one feature of the default model over the whole of `data`.
void atlas_section(const std::string& data, const std::string& model_name, uint64_t seed, RunManifest& run,
                   render::HtmlPage& page);

// The demo's toy-model section (Fig. 7, Fig. 15), both tasks on a shorter protocol.
void toy_section(uint64_t seed, RunManifest& run, render::HtmlPage& page);

}  // namespace tension::cli
