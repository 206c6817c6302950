#pragma once
// curve.csv: per step and panel, the loss and the panel's feature value on the step's image, also in standard
// deviations of the feature over a dataset (the App. F / Fig. 14 check). Columns are documented in the README.
#include <string>
#include <vector>

#include "tension/viz/panels.h"

namespace tension::viz {

// names[i] labels panel i; fv_sd[i] is the feature's standard deviation over the dataset (NaN or 0: unknown,
// the fv_sd column stays empty).
void write_curve_csv(const std::string& path, const std::vector<std::string>& names, const std::vector<Panel>& panels,
                     const std::vector<PanelResult>& results, const std::vector<double>& fv_sd);

}  // namespace tension::viz
