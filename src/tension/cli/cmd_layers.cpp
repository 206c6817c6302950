// tension layers MODEL: every addressable tap with its shape and the centre unit's receptive field.
#include <fmt/format.h>

#include <fstream>
#include <iostream>

#include "tension/analysis/layer_table.h"
#include "tension/cli/common.h"
#include "tension/core/manifest.h"

namespace tension::cli {

void register_layers(CLI::App& app) {
  struct Args {
    ModelArgs model;
    std::string out;
    bool json = false, effective_field = false;
  };
  static Args a;
  auto* cmd = app.add_subcommand("layers", "list every addressable layer with its shape and receptive field");
  add_model_options(cmd, a.model);
  cmd->add_flag("--json", a.json, "print JSON instead of a table");
  cmd->add_flag("--effective-field", a.effective_field,
                "also each spatial tap's effective receptive field (the crops shown to a person) at thresholds 0.05 "
                "and 0.2 (slow: 300 passes of 30 images per tap)");
  cmd->add_option("--out", a.out, "also write layers.json and run.json into this folder");
  cmd->callback([] {
    auto m = load_model(a.model);
    auto t = analysis::layer_table(*m, a.model.seed, a.effective_field);
    if (a.json) {
      std::cout << t.json.dump(2) << "\n";
    } else {
      const auto& in = m->input_spec();
      std::cout << fmt::format("{}: input {}x{}x{}, range [{}, {}]; every layer also has a LAYER:in tap\n",
                               m->name(), in.channels, in.height, in.width, in.range_lo, in.range_hi);
      std::vector<size_t> w(t.header.size());
      for (size_t c = 0; c < w.size(); ++c) {
        w[c] = t.header[c].size();
        for (const auto& r : t.rows) w[c] = std::max(w[c], r[c].size());
      }
      auto print_row = [&](const std::vector<std::string>& r) {
        for (size_t c = 0; c < r.size(); ++c) std::cout << fmt::format("{:<{}}  ", r[c], w[c]);
        std::cout << "\n";
      };
      print_row(t.header);
      for (const auto& r : t.rows) print_row(r);
    }
    if (!a.out.empty()) {
      RunManifest run(a.out, "layers", global().argv);
      run["model"] = {{"spec", a.model.spec}, {"name", m->name()}, {"weights", m->weights_id()}};
      std::ofstream(run.path("layers.json")) << t.json.dump(2) << "\n";
      run.add_output("layers.json", "every tap with its shape and centre-unit receptive field");
      run.write();
    }
  });
}

}  // namespace tension::cli
