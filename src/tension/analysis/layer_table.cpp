#include "tension/analysis/layer_table.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>

#include "tension/model/effective_field.h"
#include "tension/model/graph_cuts.h"
#include "tension/model/receptive_field.h"

namespace tension::analysis {

namespace {
std::string shape_str(const std::vector<int64_t>& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "x" : "") + std::to_string(s[i]);
  return out;
}
}  // namespace

LayerTable layer_table(model::Model& m, uint64_t seed, bool effective_field, model::FieldMethod rf) {
  std::vector<model::Tap> taps;
  for (const auto& l : m.layers()) taps.push_back({l.name, model::TapSide::Output});
  model::ReceptiveFieldOptions rfo;
  rfo.seed = seed;
  rfo.method = rf;
  auto geo = model::tap_geometry(m, taps, rfo);
  auto cuts = model::analyse_cuts(m);
  LayerTable t;
  t.header = {"layer", "kind", "shape (C x H x W)", "centre unit", "receptive field [top,bottom) x [left,right)",
              "RF size", "RF from", "cut", "ReLUs before", "attribution layer"};
  if (effective_field) {
    t.header.push_back("effective RF 0.05");
    t.header.push_back("effective RF 0.2");
  }
  t.json = nlohmann::json::array();
  for (size_t i = 0; i < geo.size(); ++i) {
    const auto& g = geo[i];
    const auto& kind = m.layers()[i].kind;
    const auto& c = cuts.taps[i];
    // "cut": every path from the input to the output crosses the tap (where completeness is measured).
    std::string cut = c.cut ? (c.post_relu ? "yes, post-ReLU" : "yes") : "no";
    if (!c.same_as.empty()) cut += " (= " + c.same_as + ")";
    const std::string relus = std::to_string(c.relus_before) + "/" + std::to_string(cuts.total_relus);
    const std::string preceding = c.preceding_cut.empty() ? "-" : c.preceding_cut;
    if (!g.error.empty()) {
      t.rows.push_back({g.tap.layer, kind, "-", "-", g.error, "-", "-", cut, relus, preceding});
      if (effective_field) t.rows.back().insert(t.rows.back().end(), {"-", "-"});
      t.json.push_back({{"layer", g.tap.layer}, {"kind", kind}, {"error", g.error}, {"cut", c.cut}});
      continue;
    }
    std::string unit = g.spatial ? "@" + std::to_string(g.row) + "," + std::to_string(g.col) : "-";
    std::string box = "[" + std::to_string(g.rf.top) + "," + std::to_string(g.rf.bottom) + ") x [" +
                      std::to_string(g.rf.left) + "," + std::to_string(g.rf.right) + ")";
    t.rows.push_back({g.tap.layer, kind, shape_str(g.shape), unit, box,
                      std::to_string(g.rf.height()) + "x" + std::to_string(g.rf.width()), model::to_string(g.method),
                      cut, relus, preceding});
    t.json.push_back({{"layer", g.tap.layer},
                      {"kind", kind},
                      {"shape", g.shape},
                      {"centre", {g.row, g.col}},
                      {"receptive_field", {{"top", g.rf.top}, {"left", g.rf.left}, {"bottom", g.rf.bottom},
                                           {"right", g.rf.right}}},
                      {"receptive_field_from", g.method},
                      {"cut", c.cut},
                      {"post_relu", c.post_relu},
                      {"same_as", c.same_as},
                      {"relus_before", c.relus_before},
                      {"attribution_layer", c.preceding_cut},
                      {"total_relus", cuts.total_relus}});
    if (!effective_field) continue;
    if (!g.spatial) {
      t.rows.back().insert(t.rows.back().end(), {"-", "-"});
      continue;
    }
    model::EffectiveFieldOptions eo;
    eo.seed = seed;
    const auto tap = g.tap;
    const int64_t row = g.row, col = g.col;
    auto centre = [&](const torch::Tensor& a) { return model::unit_at(a, tap, row, col); };
    spdlog::info("effective receptive field of {} ({}/{})", g.tap.str(), i + 1, geo.size());
    auto ef = model::effective_receptive_field(m, g.tap, centre, eo);
    auto wide = ef.box_at(0.2);
    auto& j = t.json.back()["effective_field"];
    const std::vector<std::pair<std::string, model::Box>> boxes = {{"0.05", ef.box}, {"0.2", wide}};
    for (const auto& [name, b] : boxes) {
      t.rows.back().push_back(std::to_string(b.height()) + "x" + std::to_string(b.width()));
      j[name] = {{"top", b.top}, {"left", b.left}, {"bottom", b.bottom}, {"right", b.right}};
    }
  }
  return t;
}

std::string layer_table_text(const model::Model& m, const LayerTable& t) {
  const auto& in = m.input_spec();
  std::string text = fmt::format("{}: input {}x{}x{}, range [{}, {}]; every layer also has a LAYER:in tap\n",
                                 m.name(), in.channels, in.height, in.width, in.range_lo, in.range_hi);
  std::vector<size_t> w(t.header.size());
  for (size_t c = 0; c < w.size(); ++c) {
    w[c] = t.header[c].size();
    for (const auto& r : t.rows) w[c] = std::max(w[c], r[c].size());
  }
  auto add_row = [&](const std::vector<std::string>& r) {
    for (size_t c = 0; c < r.size(); ++c) text += fmt::format("{:<{}}  ", r[c], w[c]);
    text += "\n";
  };
  add_row(t.header);
  for (const auto& r : t.rows) add_row(r);
  return text;
}

std::string layers_run(const LayersOptions& opt, RunManifest* run) {
  auto m = model::load_model(opt.model);
  auto t = layer_table(*m, opt.model.seed, opt.effective_field, opt.rf);
  if (run) {
    (*run)["params"] = opt;
    (*run)["model"] = {{"name", m->name()}, {"weights", m->weights_id()}};
    std::ofstream(run->path("layers.json")) << t.json.dump(2) << "\n";
    run->add_output("layers.json", "every tap with its shape and centre-unit receptive field");
    run->write();
  }
  return opt.json ? t.json.dump(2) + "\n" : layer_table_text(*m, t);
}

}  // namespace tension::analysis
