// tension spectrum DATA --size N --out DIR: the mean magnitude spectrum of a dataset's decorrelated images,
// for MACO inversions on the user's own data.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <cmath>

#include "tension/cli/common.h"
#include "tension/core/manifest.h"
#include "tension/core/npy.h"
#include "tension/data/dataset.h"
#include "tension/render/line_plot.h"
#include "tension/viz/spectrum.h"

namespace tension::cli {

void register_spectrum(CLI::App& app) {
  struct Args {
    std::string data, out;
    int64_t size = 512;
    int64_t channels = 3;
    size_t limit = 0;
    int decode_threads = 2;
  };
  static Args a;
  auto* cmd = app.add_subcommand("spectrum",
                                 "mean |rfft2| of a dataset's decorrelated images (the MACO magnitude for "
                                 "`visualize --spectrum`)");
  cmd->add_option("data", a.data, "dataset")->required();
  cmd->add_option("--size", a.size, "canvas side the images are resized to")->capture_default_str();
  cmd->add_option("--channels", a.channels, "1 (grey models) or 3 (RGB)")->capture_default_str();
  cmd->add_option("--limit", a.limit, "only the first N images (0 = all)")->capture_default_str();
  cmd->add_option("--decode-threads", a.decode_threads)->capture_default_str();
  cmd->add_option("--out,-o", a.out, "output folder (spectrum.npy, spectrum.png, run.json)")->required();
  cmd->callback([] {
    auto ds = data::open_dataset(a.data);
    RunManifest run(a.out, "spectrum", global().argv);
    run["params"] = {{"data", a.data}, {"size", a.size}, {"channels", a.channels}, {"limit", a.limit}};
    run["dataset"] = {{"spec", a.data}, {"sha256", data::listing_hash(*ds)}, {"size", ds->size()}};
    run.write("running");
    auto spectrum = viz::estimate_spectrum(
        *ds, viz::SpectrumOptions(a.size, a.channels).limit(a.limit).decode_threads(a.decode_threads));
    write_npy(run.path("spectrum.npy"), spectrum);
    run.add_output("spectrum.npy", fmt::format("float32 [{}, {}, {}]: mean |rfft2| of decorrelated images, rfft2 "
                                               "layout (DC at [0, 0])", a.channels, a.size, a.size / 2 + 1));
    auto p = viz::radial_profile(spectrum);
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
  });
}

}  // namespace tension::cli
