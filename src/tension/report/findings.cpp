// The demo page's opening summary: the paper's claims the demo measures, with verdicts.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "tension/report/sections.h"

namespace tension::report {

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
  if (results.contains("uniqueness")) {
    // Units, the paper's solid lines (Fig 8a): per layer, U of the MEIs against U of the largest ||S||_1.
    std::string measured;
    bool shared_more = true;
    for (const auto& l : results["uniqueness"]) {
      const double mei = l["U"]["units"]["mei"], l1 = l["U"]["units"]["l1"];
      shared_more = shared_more && l1 < mei;
      measured += fmt::format("{}{}: {:.2f} vs {:.2f}", measured.empty() ? "" : ", ", l["layer"].get<std::string>(),
                              l1, mei);
    }
    page.finding({"Features share their largest attributions far more than their MEIs (§6, Fig 8a)",
                  "U of the ||S||_1 top 100 vs the MEIs' over 20 units: " + measured,
                  shared_more ? "holds" : "does not hold", "uniqueness"});
    const auto& trend = results["uniqueness_trend"]["units"];
    page.finding({"MEIs stay unique at every depth while attributions are shared more the deeper the layer (§6, "
                  "Fig 8a)",
                  fmt::format("units: MEI U >= 0.9 everywhere: {}; ||S||_1's U falls with depth: {}",
                              trend["mei_near_1"].get<bool>() ? "yes" : "no",
                              trend["l1_falls_with_depth"].get<bool>() ? "yes" : "no"),
                  trend["mei_near_1"].get<bool>() && trend["l1_falls_with_depth"].get<bool>() ? "holds"
                                                                                               : "does not hold",
                  "uniqueness"});
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

}  // namespace tension::report
