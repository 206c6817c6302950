#include "tension/viz/spectrum_outputs.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

#include "tension/core/npy.h"
#include "tension/data/dataset.h"
#include "tension/render/line_plot.h"
#include "tension/viz/spectrum.h"

namespace tension::viz {

void spectrum_run(const SpectrumRunOptions& a, RunManifest& run) {
  auto ds = data::open_dataset(a.data);
  run["params"] = a;
  run["dataset"] = {{"spec", a.data}, {"sha256", data::listing_hash(*ds)}, {"size", ds->size()}};
  run.write("running");
  SpectrumOptions so{a.size, a.channels, a.limit};
  so.decode_threads = a.decode_threads;
  auto spectrum = estimate_spectrum(*ds, so);
  write_npy(run.path("spectrum.npy"), spectrum);
  run.add_output("spectrum.npy", fmt::format("float32 [{}, {}, {}]: mean |rfft2| of decorrelated images, rfft2 "
                                             "layout (DC at [0, 0])", a.channels, a.size, a.size / 2 + 1));
  auto p = radial_profile(spectrum);
  render::LinePanel panel{"radial average", "log10 frequency (cycles per image)", "log10 mean magnitude", {}};
  for (size_t c = 0; c < p.magnitude.size(); ++c) {
    render::Series s{fmt::format("channel {} (slope {:.2f})", c, p.slope[c]), {}, {}};
    for (size_t i = 0; i < p.radius.size(); ++i) {
      s.x.push_back(std::log10(p.radius[i]));
      s.y.push_back(std::log10(std::max(p.magnitude[c][i], 1e-30)));
    }
    panel.series.push_back(std::move(s));
  }
  render::write_line_figure(run.path("spectrum"), {panel});
  run.add_output("spectrum.png", "radial average of the spectrum per decorrelated channel, log-log");
  run["results"]["slope"] = p.slope;
  run.write();
  spdlog::info("spectrum of {} written to {} (log-log slopes {})", a.data, run.path("spectrum.npy"),
               fmt::join(p.slope, ", "));
}

}  // namespace tension::viz
