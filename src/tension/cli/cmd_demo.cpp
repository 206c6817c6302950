// tension demo: every analysis on the embedded default (Fashion-MNIST CNNs), one HTML report.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "tension/analysis/completeness_outputs.h"
#include "tension/analysis/layer_table.h"
#include "tension/analysis/weight_outputs.h"
#include "tension/cli/common.h"
#include "tension/core/error.h"
#include "tension/core/manifest.h"
#include "tension/data/dataset.h"
#include "tension/data/preprocess.h"
#include "tension/model/input_range.h"
#include "tension/render/html_page.h"
#include "tension/render/image_grid.h"
#include "tension/train/classifier.h"

namespace tension::cli {

namespace {

struct DemoArgs {
  std::string out = "out/demo";
  std::string data = "fashion-mnist:test";
  std::string atlas_data = "fashion-mnist:train";  // the paper's atlas draws from training images
  std::vector<std::string> models{"fmnist-cnn", "fmnist-cnn-bn"};
  uint64_t seed = 0;
  size_t completeness_images = 2000;
};

// Section: the default models, their test accuracy and layers.
void models_section(const DemoArgs& a, const data::Dataset& ds, RunManifest& run, render::HtmlPage& page,
                    std::vector<std::unique_ptr<model::Model>>& models) {
  page.section("The embedded default models", "models");
  page.paragraph(fmt::format(
      "Trained by `tension train-default` on Fashion-MNIST (Debian's dataset-fashion-mnist) with a fixed seed; "
      "weights committed under models/. Evaluated here on {} ({} images).", a.data, ds.size()));
  std::vector<std::vector<std::string>> rows;
  for (const auto& name : a.models) {
    ModelArgs ma;
    ma.spec = name;
    auto m = load_model(ma);
    if (m->weights_id().rfind("random-init", 0) == 0) {
      throw Error("no trained weights for " + name + " in " + model::models_dir() +
                  ": run `tension train-default` first");
    }
    auto acc = train::evaluate_accuracy(*m, ds);
    spdlog::info("{}: test accuracy {:.4f}", name, acc.accuracy);
    rows.push_back({name, fmt::format("{:.2f}%", 100 * acc.accuracy), std::to_string(acc.total),
                    m->weights_id().substr(0, 16)});
    run["results"]["accuracy"][name] = acc.accuracy;
    run["models"][name] = m->weights_id();
    models.push_back(std::move(m));
  }
  page.table({"model", "test accuracy", "images", "weights SHA-256 (prefix)"}, rows);

  for (auto& m : models) {
    auto t = analysis::layer_table(*m, a.seed);
    std::string file = "layers-" + m->name() + ".json";
    std::ofstream(run.path(file)) << t.json.dump(2) << "\n";
    run.add_output(file, "layers of " + m->name() + " with shapes and receptive fields");
    page.raw("<h3>Layers of " + render::html_escape(m->name()) +
             "</h3><p>Every layer is a tap (<code>LAYER</code> for its output, <code>LAYER:in</code> for its "
             "input); the receptive field is that of the centre unit, found from gradient support.</p>");
    page.table(t.header, t.rows);
  }
}

// Section: a grid of test images with the default model's predictions.
void samples_section(const data::Dataset& ds, model::Model& m, RunManifest& run, render::HtmlPage& page) {
  const int64_t n = std::min<int64_t>(32, static_cast<int64_t>(ds.size()));
  std::vector<torch::Tensor> imgs;
  for (int64_t i = 0; i < n; ++i) imgs.push_back(data::preprocess(ds.load(i), m.input_spec()));
  auto x = torch::stack(imgs);
  model::RunOptions ro;
  ro.want_output = true;
  auto pred = m.run(x.to(m.device()), {}, ro).output.argmax(1).cpu();
  render::GridOptions go;
  go.cell = 84;
  render::write_png(run.path("samples.png"), render::image_grid(model::to_unit_range(x, m.input_spec()), go));
  run.add_output("samples.png", "the first test images");
  auto names = ds.class_names();
  std::vector<std::vector<std::string>> rows;
  int64_t right = 0;
  for (int64_t i = 0; i < n; ++i) {
    auto label = ds.label(i), p = pred[i].item<int64_t>();
    right += label == p;
    auto name_of = [&](int64_t k) { return k >= 0 && k < (int64_t)names.size() ? names[k] : std::to_string(k); };
    rows.push_back({std::to_string(i), name_of(label), name_of(p), label == p ? "" : "wrong"});
  }
  page.section("Test images and predictions", "samples");
  page.image("samples.png", fmt::format("The first {} test images (row by row); {} predicts {} of them right.",
                                        n, m.name(), right));
  page.table({"#", "label", m.name() + " predicts", ""}, rows);
}

// Section: completeness through every post-ReLU cut and the pixels, with and without BatchNorm (Fig. 3, 13).
void completeness_section(const DemoArgs& a, const data::Dataset& ds,
                          std::vector<std::unique_ptr<model::Model>>& models, RunManifest& run,
                          render::HtmlPage& page) {
  analysis::CompletenessOptions opt;
  opt.limit = a.completeness_images;
  opt.seed = a.seed;
  std::vector<analysis::CompletenessResult> results;
  for (auto& m : models) results.push_back(analysis::completeness(*m, ds, opt));
  analysis::write_completeness_outputs(results, run);
  page.section("Attribution completeness (paper §2, Fig. 3 and 13)", "completeness");
  page.paragraph(fmt::format(
      "E_l = sum(S_l), S_l = grad f_v (.) h_l, against the logit f_v for every logit, through every post-ReLU layer "
      "that all paths from the input cross (on these chains: every ReLU) and the pixels, over the first {} test images. x = fraction of the model's ReLUs before the layer.",
      results.front().images));
  page.image("completeness.png", "Pearson and Spearman correlation of f_v and E_l, and mean |f_v - E_l|");
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : results) {
    for (const auto& l : r.layers) {
      rows.push_back({r.model, l.layer, fmt::format("{:.2f}", l.depth), fmt::format("{:.4f}", l.pearson),
                      fmt::format("{:.4f}", l.spearman), fmt::format("{:.4g}", l.mean_abs_diff)});
    }
  }
  page.table({"model", "layer", "depth", "Pearson", "Spearman", "mean |f_v - E_l|"}, rows);
}

// Section: weight signs (App. D, Fig. 12).
void weights_section(std::vector<std::unique_ptr<model::Model>>& models, RunManifest& run, render::HtmlPage& page) {
  std::vector<analysis::WeightSigns> all;
  for (auto& m : models) all.push_back(analysis::weight_signs(*m));
  analysis::write_weight_outputs(all, run);
  page.section("Weight signs (paper App. D, Fig. 12)", "weights");
  std::string summary;
  for (const auto& w : all) summary += fmt::format("{}: {:.1f}% negative. ", w.model, 100 * w.fraction_negative);
  page.paragraph(summary);
  page.image("weights.png", "Weights standardised within each layer, pooled; fraction negative per layer");
}

// The page's opening summary: each claim of the paper the demo measures, read back from the results the sections
// wrote, with its verdict and a link to its section.
void add_findings(const nlohmann::json& results, const std::string& plain, const std::string& batchnorm,
                  render::HtmlPage& page) {
  // Lowest Pearson over the post-ReLU cuts (latent layers) and the pixels' Pearson, per model.
  std::map<std::string, std::pair<double, double>> corr;
  for (const auto& r : results.value("completeness", nlohmann::json::array())) {
    double latent = 1, pixels = 1;
    for (const auto& l : r["layers"]) {
      double p = l["pearson"].get<double>();
      if (l["layer"] == "input") pixels = p;
      else if (l.value("cut", true)) latent = std::min(latent, p);
    }
    corr[r["model"].get<std::string>()] = {latent, pixels};
  }
  if (corr.count(plain)) {
    auto [latent, pixels] = corr[plain];
    page.finding({"E_l = sum(S_l) tracks f_v through every ReLU layer of a network without BatchNorm (§2, Fig. 3)",
                  fmt::format("{}: lowest Pearson over its post-ReLU cuts {:.4f} (threshold 0.99)", plain, latent),
                  latent >= 0.99 ? "holds" : "does not hold", "completeness"});
    if (corr.count(batchnorm)) {
      double bn = corr[batchnorm].first;
      bool holds = pixels < latent && bn < latent - 0.05;
      page.finding({"Completeness drops at the pixels and through BatchNorm (§2, Fig. 3)",
                    fmt::format("{}: pixels {:.3f} vs {:.4f} inside; {}: lowest inside {:.3f}", plain, pixels, latent,
                                batchnorm, bn),
                    holds ? "holds" : "does not hold", "completeness"});
    }
  }
  if (results.contains("fig14")) {
    const auto& f = results["fig14"];
    const int units = f["units"], up = f["s_pos_raised"], down = f["s_neg_lowered"];
    page.finding({"Inverting S+ raises f_v and inverting S- lowers it (App. F, Fig. 14)",
                  fmt::format("{} of {} S+ inversions end above their start, {} of {} S- inversions below", up, units,
                              down, units),
                  up == units && down == units ? "holds" : (up + down > units ? "partly" : "does not hold"),
                  "visualization"});
  }
  if (results.contains("inversion_check")) {
    std::string measured;
    double worst = 1;
    for (const auto& [layer, r] : results["inversion_check"].items()) {
      const double both = r["both"];
      worst = std::min(worst, both);
      measured += fmt::format("{}{}: {:.0f}%", measured.empty() ? "" : ", ", layer, 100 * both);
    }
    const char* verdict = worst >= 0.9 ? "holds" : worst >= 0.5 ? "partly" : "does not hold";
    page.finding({"Per layer, S+ inversions end above their start and S- inversions below (App. F, Fig. 14)",
                  "(unit, MTI) pairs where both hold: " + measured + " (holds: at least 90% in every layer)", verdict,
                  "inversion"});
  }
  const std::vector<std::pair<std::string, std::string>> toys = {
      {"abs", "Toy abs"}, {"xor", "Toy XOR"}, {"abs_code", "Toy abs, the released code's p_on 0.01"}};
  for (const auto& [key, label] : toys) {
    if (!results.contains("toy") || !results["toy"].contains(key)) continue;
    for (const auto& c : results["toy"][key]["claims"]) {
      page.finding({label + ": " + c["claim"].get<std::string>(), c["measured"],
                    c["holds"].get<bool>() ? "holds" : "does not hold", "toy"});
    }
  }
}

}  // namespace

void register_demo(CLI::App& app) {
  static DemoArgs a;
  auto* cmd = app.add_subcommand("demo", "run the analyses on the embedded default and write one HTML report");
  cmd->add_option("--out", a.out, "report folder")->capture_default_str();
  cmd->add_option("--data", a.data, "dataset")->capture_default_str();
  cmd->add_option("--atlas-data", a.atlas_data, "dataset the atlas section selects its images from")
      ->capture_default_str();
  cmd->add_option("--seed", a.seed)->capture_default_str();
  cmd->add_option("--completeness-images", a.completeness_images, "test images for the completeness section")
      ->capture_default_str();
  cmd->callback([] {
    RunManifest run(a.out, "demo", global().argv);
    run["params"] = {{"data", a.data}, {"atlas_data", a.atlas_data}, {"seed", a.seed}, {"models", a.models}};
    auto ds = data::open_dataset(a.data);
    run["dataset"] = {{"spec", a.data}, {"sha256", data::listing_hash(*ds)}, {"size", ds->size()}};
    render::HtmlPage page("tension demo: feature inhibition on the embedded default");
    page.paragraph("Generated by `tension demo`. run.json beside this page records the command, parameters, "
                   "model and data hashes, library versions and timings.");
    std::vector<std::unique_ptr<model::Model>> models;
    models_section(a, *ds, run, page, models);
    samples_section(*ds, *models.front(), run, page);
    completeness_section(a, *ds, models, run, page);
    weights_section(models, run, page);
    selection_section(a.data, a.models.front(), a.completeness_images, a.seed, run, page);
    toy_section(a.seed, run, page);
    visualization_section(*ds, *models.front(), a.seed, run, page);
    inversion_section(*ds, *models.front(), a.seed, run, page);
    atlas_section(a.atlas_data, a.models.front(), a.seed, run, page);
    add_findings(run["results"], a.models.front(), a.models.back(), page);
    page.write(run.path("index.html"));
    run.add_output("index.html", "the report");
    run.write();
    spdlog::info("demo report: {}", run.path("index.html"));
  });
}

}  // namespace tension::cli
