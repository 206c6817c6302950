#include "tension/analysis/weight_outputs.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <fstream>

#include "tension/data/dataset.h"
#include "tension/model/model.h"
#include "tension/render/line_plot.h"

namespace tension::analysis {

void write_weight_outputs(const std::vector<WeightSigns>& all, RunManifest& run) {
  std::ofstream csv(run.path("weights.csv"));
  csv << "model,parameter,count,fraction_negative,mean,std\n";
  std::vector<render::LinePanel> panels(2);
  panels[0] = {"weights scaled by their layer's sd (Fig. 12)", "w / sd(layer), not centred", "density", {}};
  panels[0].key = "top left";
  panels[1] = {"fraction of negative weights per layer", "relative layer position", "fraction negative", {},
               true, 0.0, 1.0};
  nlohmann::json js = nlohmann::json::array();
  for (const auto& w : all) {
    render::Series hist{fmt::format("{} ({:.1f}% negative)", w.model, 100 * w.fraction_negative), w.bin_centres,
                        w.density};
    render::Series frac{w.model, {}, {}};
    nlohmann::json layers = nlohmann::json::array();
    for (size_t i = 0; i < w.layers.size(); ++i) {
      const auto& l = w.layers[i];
      csv << w.model << "," << l.name << "," << l.count << "," << l.fraction_negative << "," << l.mean << ","
          << l.std << "\n";
      frac.x.push_back(w.layers.size() > 1 ? static_cast<double>(i) / (w.layers.size() - 1) : 0.0);
      frac.y.push_back(l.fraction_negative);
      layers.push_back({{"parameter", l.name}, {"count", l.count}, {"fraction_negative", l.fraction_negative},
                        {"mean", l.mean}, {"std", l.std}});
    }
    panels[0].series.push_back(hist);
    panels[1].series.push_back(frac);
    js.push_back({{"model", w.model}, {"fraction_negative", w.fraction_negative}, {"layers", layers}});
  }
  csv.close();
  render::write_line_figure(run.path("weights"), panels);
  run["results"]["weight_signs"] = js;
  run.add_output("weights.csv", "per model and kernel: count, fraction negative, mean, std");
  run.add_output("weights.png", "Fig. 12 (also .svg, .gp, .dat)");
}

void weights_run(const std::vector<std::string>& models, const model::ModelSource& model, RunManifest& run) {
  std::vector<WeightSigns> all;
  for (const auto& spec : models) {
    auto source = model;
    source.spec = spec;
    auto m = model::load_model(source);
    run["models"][spec] = m->weights_id();
    all.push_back(weight_signs(*m));
    int64_t n = 0;
    for (const auto& l : all.back().layers) n += l.count;
    spdlog::info("{}: {:.2f}% of {} kernel weights are negative", spec, 100 * all.back().fraction_negative, n);
  }
  write_weight_outputs(all, run);
  run.write();
}

}  // namespace tension::analysis
