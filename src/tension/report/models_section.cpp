// The demo's first sections: the default models (accuracy, layers) and test images with predictions.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <fstream>

#include "tension/analysis/layer_table.h"
#include "tension/core/error.h"
#include "tension/data/preprocess.h"
#include "tension/model/input_range.h"
#include "tension/model/model_source.h"
#include "tension/model/registry.h"
#include "tension/render/image_grid.h"
#include "tension/report/sections.h"
#include "tension/train/classifier.h"

namespace tension::report {

Models models_section(const DemoOptions& a, const data::Dataset& ds, RunManifest& run, render::HtmlPage& page) {
  Models models;
  page.section("The embedded default models", "models");
  page.paragraph(fmt::format(
      "Trained by `tension train-default` on Fashion-MNIST (Debian's dataset-fashion-mnist) with a fixed seed; "
      "weights committed under models/. Evaluated here on {} ({} images).", a.data, ds.size()));
  std::vector<std::vector<std::string>> rows;
  for (const auto& name : a.models) {
    model::ModelSource source;
    source.spec = name;
    source.device = a.device;
    auto m = model::load_model(source);
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
             "input); the receptive field is that of the centre unit, from the layers' kernels, strides and "
             "paddings (the column \"RF from\" says where it was measured as a gradient support instead).</p>");
    page.table(t.header, t.rows);
  }
  return models;
}

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

}  // namespace tension::report
