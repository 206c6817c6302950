#pragma once
// The demo report's sections (report/demo.h). Each runs its analysis, records its results in the demo's run.json
// and adds its part of the page; findings.cpp reads the results back into the page's opening summary.
#include <memory>
#include <string>
#include <vector>

#include "tension/core/manifest.h"
#include "tension/data/dataset.h"
#include "tension/model/model.h"
#include "tension/render/html_page.h"
#include "tension/report/demo.h"

namespace tension::report {

using Models = std::vector<std::unique_ptr<model::Model>>;

// The default models with their test accuracy and layer tables; returns them loaded.
Models models_section(const DemoOptions& opt, const data::Dataset& ds, RunManifest& run, render::HtmlPage& page);
// A grid of test images with the first model's predictions.
void samples_section(const data::Dataset& ds, model::Model& m, RunManifest& run, render::HtmlPage& page);
// Completeness through every post-ReLU cut and the pixels, with and without BatchNorm (§2, Fig. 3, 13).
void completeness_section(const DemoOptions& opt, const data::Dataset& ds, Models& models, RunManifest& run,
                          render::HtmlPage& page);
// Weight signs (App. D, Fig. 12).
void weights_section(Models& models, RunManifest& run, render::HtmlPage& page);
// Selection (§3, Fig 2, Fig 4): k-means directions, two attribution runs, the rules, the page.
void selection_section(const DemoOptions& opt, RunManifest& run, render::HtmlPage& page);
// Toy models of superposition (§6, App. G; Fig. 7, 15), both tasks on a shorter protocol.
void toy_section(uint64_t seed, RunManifest& run, render::HtmlPage& page);
// Accentuation and inversion (§4, Fig. 5) and the Fig. 14 check on model m.
void visualization_section(const data::Dataset& ds, model::Model& m, uint64_t seed, RunManifest& run,
                           render::HtmlPage& page);
// The App. F inversion check on model m, every layer through the block before it.
void inversion_section(const data::Dataset& ds, model::Model& m, uint64_t seed, RunManifest& run,
                       render::HtmlPage& page);
// The feature attribution atlas (§5, Fig. 6) of one feature over the whole of opt.atlas_data.
void atlas_section(const DemoOptions& opt, RunManifest& run, render::HtmlPage& page);
// The uniqueness experiment (§6, Fig 8, App H, Fig 16) on the first model, every ReLU layer after the first.
void uniqueness_section(const DemoOptions& opt, RunManifest& run, render::HtmlPage& page);
// The human MEI -> MII experiment (App B, Fig 9, 10): trials on the first model, a simulated cohort, the analysis.
void human_section(const DemoOptions& opt, RunManifest& run, render::HtmlPage& page);
// The page's opening summary: each claim of the paper the demo measures, read back from run["results"], with its
// verdict and a link to its section. plain and batchnorm name the models without and with BatchNorm.
void add_findings(const nlohmann::json& results, const std::string& plain, const std::string& batchnorm,
                  render::HtmlPage& page);

}  // namespace tension::report
