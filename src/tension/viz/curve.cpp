#include "tension/viz/curve.h"

#include <fmt/format.h>

#include <cmath>
#include <fstream>

#include "tension/core/error.h"

namespace tension::viz {

void write_curve_csv(const std::string& path, const std::vector<std::string>& names, const std::vector<Panel>& panels,
                     const std::vector<PanelResult>& results, const std::vector<double>& fv_sd) {
  if (names.size() != panels.size() || results.size() != panels.size() || fv_sd.size() != panels.size()) {
    throw Error("write_curve_csv: one name, result and standard deviation per panel is needed");
  }
  std::ofstream out(path);
  if (!out) throw Error("cannot write " + path);
  out << "panel,kind,target,feature,step,loss,fv,fv_sd\n";
  for (size_t i = 0; i < panels.size(); ++i) {
    const auto& r = results[i];
    const bool scaled = std::isfinite(fv_sd[i]) && fv_sd[i] > 0;
    for (size_t s = 0; s < r.loss.size(); ++s) {
      out << names[i] << ',' << panel_kind(panels[i]) << ',' << target_name(panels[i].target) << ','
          << panels[i].feature.spec << ',' << s << ',' << fmt::format("{:.7g}", r.loss[s]) << ','
          << fmt::format("{:.7g}", r.fv[s]) << ',' << (scaled ? fmt::format("{:.7g}", r.fv[s] / fv_sd[i]) : "")
          << '\n';
    }
  }
  if (!out) throw Error("cannot write " + path);
}

}  // namespace tension::viz
