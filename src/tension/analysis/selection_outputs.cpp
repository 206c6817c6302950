#include "tension/analysis/selection_outputs.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <optional>
#include <set>

#include "tension/core/csv.h"
#include "tension/core/error.h"
#include "tension/render/image_grid.h"
#include "tension/render/posneg_scatter.h"
#include "tension/render/sprite_sheet.h"
#include "tension/render/vega_page.h"

namespace tension::analysis {

namespace {

std::string file_stem(const std::string& spec) {
  std::string s = spec;
  std::replace(s.begin(), s.end(), '+', '_');
  return s;
}

// Row 1: the crops; row 2: the same crops with their ± overlays at the given scale.
torch::Tensor rule_grid(const FeatureView& view, const std::vector<Selected>& sel, const render::PosNegRange* range) {
  std::vector<size_t> shown;
  for (const auto& s : sel) shown.push_back(s.item);
  std::vector<torch::Tensor> images, cells;
  for (size_t i : shown) images.push_back(view.image(i));
  for (const auto& im : images) cells.push_back(view.crop(im));
  if (range) {
    for (size_t j = 0; j < shown.size(); ++j) cells.push_back(view.overlay_crop(shown[j], images[j], *range));
  }
  render::GridOptions go;
  go.columns = static_cast<int64_t>(shown.size());
  return render::image_grid(torch::stack(cells), go);
}

// The items the page shows: every selected image, then an even sample of the rest, then the first ones where the
// sample met selections.
std::vector<size_t> page_items(size_t n, const std::vector<SelectionRun>& runs, size_t page_points) {
  std::set<size_t> keep;
  for (const auto& r : runs) {
    for (const auto& s : r.selected) keep.insert(s.item);
  }
  const size_t target = std::min(n, std::max(page_points, keep.size()));
  for (size_t j = 0; j < target && keep.size() < target; ++j) keep.insert(j * n / target);
  for (size_t i = 0; keep.size() < target; ++i) keep.insert(i);
  return {keep.begin(), keep.end()};
}

// The interactive page: the scatter, rule toggles, and on hover or click the image, its crop and its overlay. The
// pictures are sprite sheets under points/, the crops at the field's own resolution: the browser scales them up,
// smoothly, so that they look as the grids' crops drawn at the canvas size.
void write_page(const FeatureView& view, const std::vector<SelectionRun>& runs, const std::vector<size_t>& shown,
                const render::PosNegRange* range, RunManifest& run) {
  const auto& items = view.items();
  const int64_t side = view.page_side(), n = static_cast<int64_t>(shown.size());
  std::optional<render::SpriteSheetWriter> images, overlays;
  render::SpriteSheetWriter crops(run.dir(), "points/crop", n, side, side);
  if (range) overlays.emplace(run.dir(), "points/overlay", n, side, side);
  nlohmann::json values = nlohmann::json::array();
  double fv_max = 1e-12;  // the colour scale spans -/+ the largest |f_v|, as the static scatter's
  for (size_t i : shown) {
    const auto& it = items[i];
    fv_max = std::max(fv_max, std::abs(it.fv));
    auto image = view.image(i);
    if (!images) images.emplace(run.dir(), "points/image", n, image.size(1), image.size(2));
    nlohmann::json v = {{"index", it.image},
                        {"id", view.record(i).id},
                        {"label", view.record(i).label},
                        {"fv", it.fv},
                        {"e_pos", it.e_pos},
                        {"e_neg", it.e_neg},
                        {"l1", it.l1},
                        {"image", images->add(image)},
                        {"crop", crops.add(view.crop(image, side))},
                        {"overlay", range ? nlohmann::json(overlays->add(view.overlay_crop(i, image, *range, side)))
                                          : nlohmann::json()}};
    for (const auto& r : runs) {
      bool in = std::any_of(r.selected.begin(), r.selected.end(), [&](const Selected& s) { return s.item == i; });
      v["sel_" + file_stem(r.spec)] = in;
    }
    values.push_back(v);
  }
  // The sheets, and the crop's box in the image (for the page's tests), ride along in usermeta.
  nlohmann::json sprites = {{"image", images->finish()},
                            {"crop", crops.finish()},
                            {"overlay", overlays ? nlohmann::json(overlays->finish()) : nlohmann::json()}};

  nlohmann::json params = nlohmann::json::array();
  std::string any_rule = "false";
  for (const auto& r : runs) {
    std::string p = "show_" + file_stem(r.spec);
    params.push_back({{"name", p}, {"value", true}, {"bind", {{"input", "checkbox"}, {"name", r.spec + " "}}}});
    any_rule += " || (" + p + " && datum['sel_" + file_stem(r.spec) + "'])";
  }
  nlohmann::json spec = {
      {"$schema", "https://vega.github.io/schema/vega-lite/v6.json"},
      {"usermeta", {{"sprites", sprites}, {"field", view.receptive_field()}}},
      {"width", 520},
      {"height", 520},
      {"params", params},
      {"data", {{"name", "points"}, {"values", values}}},
      {"layer",
       {{{"mark", {{"type", "point"}, {"filled", true}, {"size", 30}, {"cursor", "pointer"}}},
         {"encoding",
          {{"x", {{"field", "e_pos"}, {"type", "quantitative"}, {"title", "E+ (excitation)"}}},
           {"y", {{"field", "e_neg"}, {"type", "quantitative"}, {"title", "E- (inhibition)"}}},
           {"color",
            {{"field", "fv"}, {"type", "quantitative"}, {"title", "f_v"},
             {"scale", render::fv_colour_scale(-fv_max, fv_max)}}},
           {"tooltip",
            {{{"field", "index"}, {"title", "image"}}, {{"field", "id"}}, {{"field", "fv"}, {"format", ".4g"}},
             {{"field", "e_pos"}, {"format", ".4g"}}, {{"field", "e_neg"}, {"format", ".4g"}}}}}}},
        {{"mark", {{"type", "point"}, {"filled", false}, {"size", 160}, {"strokeWidth", 2}, {"color", "black"}}},
         {"transform", {{{"filter", any_rule}}}},
         {"encoding",
          {{"x", {{"field", "e_pos"}, {"type", "quantitative"}}},
           {"y", {{"field", "e_neg"}, {"type", "quantitative"}}}}}}}}};

  render::VegaPage page;
  page.title = "tension select: " + view.feature_spec() + " attributed to " + view.layer();
  page.spec = spec;
  page.side_html =
      "<p>Hover or click a point. Circled: images chosen by the ticked rules.</p>"
      "<style>#detail canvas{width:160px}</style><div id=\"detail\" data-index=\"\"><p id=\"detail-text\">&nbsp;</p>"
      "<canvas id=\"detail-image\" hidden></canvas><canvas id=\"detail-crop\" class=\"smooth\" hidden></canvas>"
      "<canvas id=\"detail-overlay\" class=\"smooth\" hidden></canvas></div>";
  page.script = R"JS(
  const S = spec.usermeta.sprites;
  function picture(id, set, place) {
    const c = document.getElementById(id);
    if (!place) c.hidden = true;
    else drawSprite(c, set, place).then(() => { c.hidden = false; });
  }
  function show(d) {
    document.getElementById('detail').dataset.index = String(d.index);
    document.getElementById('detail-text').textContent =
      'image ' + d.index + ' (' + d.id + ', label ' + d.label + '): f_v = ' + d.fv.toPrecision(4) +
      ', E+ = ' + d.e_pos.toPrecision(4) + ', E- = ' + d.e_neg.toPrecision(4);
    picture('detail-image', S.image, d.image);
    picture('detail-crop', S.crop, d.crop);
    picture('detail-overlay', S.overlay, d.overlay);
  }
  function pick(event, item) {
    if (item && item.datum && item.datum.index !== undefined) show(item.datum);
  }
  view.addEventListener('click', pick);
  view.addEventListener('mouseover', pick);
)JS";
  render::write_vega_page(run.path("page.html"), page);
  run.add_output("page.html", "interactive (E+, E-) scatter: hover or click a point for its image, crop and overlay "
                              "(sprite sheets under points/)");
}

}  // namespace

std::vector<SelectionRun> write_selection_outputs(const FeatureView& view, const std::vector<std::string>& rule_specs,
                                                  const SelectionOutputOptions& opt, RunManifest& run) {
  const auto& items = view.items();
  std::vector<SelectionRun> runs;
  for (const auto& spec : rule_specs) {
    auto rules = parse_rules(spec);
    auto sel = select(items, rules, opt.rules);
    auto why = shortfall(items, rules, opt.rules, sel.size());
    if (!why.empty()) {
      spdlog::warn("rule {} selected {} of k = {} images: {}", spec, sel.size(), opt.rules.k, why);
    }
    run["results"]["rules"][spec] = {{"selected", sel.size()}, {"k", opt.rules.k}, {"shortfall", why}};
    runs.push_back({spec, std::move(sel), why});
  }
  // One overlay scale for every image the run shows: all grids and the page (the page holds every selection).
  const auto shown = page_items(items.size(), runs, opt.page_points);
  std::optional<render::PosNegRange> range;
  if (!items.front().phi_pos.empty()) {
    range = view.range(shown);
    run["results"]["overlay_scale"] = {{"mode", opt.per_row_scale ? "per-row (grids); pooled (page)" : "pooled"},
                                       {"images", shown.size()},
                                       {"phi_pos", {range->pos_lo, range->pos_hi}},
                                       {"phi_neg", {range->neg_lo, range->neg_hi}}};
  }

  std::ofstream csv(run.path("selection.csv"));
  csv << "rule,rank,image_index,image,label,fv,E_pos,E_neg,score\n";
  for (const auto& r : runs) {
    for (const auto& s : r.selected) {
      const auto& it = items[s.item];
      csv << r.spec << "," << s.rank << "," << it.image << "," << csv_field(view.record(s.item).id) << ","
          << view.record(s.item).label << ","
          << fmt::format("{:.9g},{:.9g},{:.9g},{:.9g}", it.fv, it.e_pos, it.e_neg, s.score)
          << "\n";
    }
  }
  csv.close();
  run.add_output("selection.csv", "per rule: rank, image index and path, label, f_v, E+, E-, the rule's score");

  std::vector<render::ScatterPoint> points;
  for (const auto& it : items) points.push_back({it.e_pos, it.e_neg, it.fv});
  std::vector<render::ScatterMarks> marks;
  for (const auto& r : runs) {
    render::ScatterMarks m{r.spec, {}};
    for (const auto& s : r.selected) m.points.push_back(s.item);
    marks.push_back(m);
    if (r.selected.empty()) continue;
    std::string png = "grid-" + file_stem(r.spec) + ".png";
    std::optional<render::PosNegRange> row_range;
    if (range && opt.per_row_scale) {
      std::vector<size_t> row;
      for (const auto& sel : r.selected) row.push_back(sel.item);
      row_range = view.range(row);
    }
    render::write_png(run.path(png), rule_grid(view, r.selected, row_range ? &*row_range : range ? &*range : nullptr));
    run.add_output(png, r.spec + ": the selected images cropped to the receptive field (top row) and their ± "
                                  "overlays (bottom row, scale in results.overlay_scale), by rank");
  }
  render::write_posneg_scatter(run.path("scatter"), view.feature_spec() + " at " + view.layer(), points, marks);
  run.add_output("scatter.png", "(E+, E-) of every image, coloured by f_v, lines of constant E, selections circled");
  write_page(view, runs, shown, range ? &*range : nullptr, run);
  return runs;
}

void write_mei_mii_rows(const store::RunStore& store, model::Model& model, const data::Dataset& data, size_t layer,
                        const FeatureViewOptions& view, int64_t k, const std::string& png_path) {
  std::vector<torch::Tensor> cells;
  for (size_t f = 0; f < store.config()["features"].size(); ++f) {
    const FeatureView fv(store, model, data, f, layer, view);
    for (Rule r : {Rule::Mei, Rule::Mii}) {
      SelectionOptions o;
      o.k = k;
      auto sel = select(fv.items(), {r}, o);
      for (int64_t j = 0; j < k; ++j) {
        auto c = fv.crop(fv.image(sel[std::min<size_t>(j, sel.size() - 1)].item));
        cells.push_back(j < static_cast<int64_t>(sel.size()) ? c : torch::ones_like(c));  // fewer images than k
      }
    }
  }
  if (cells.empty()) throw Error("no feature to draw");
  render::GridOptions go;
  go.columns = k;
  render::write_png(png_path, render::image_grid(torch::stack(cells), go));
}

}  // namespace tension::analysis
