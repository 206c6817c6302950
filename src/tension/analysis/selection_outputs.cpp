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
torch::Tensor rule_grid(const FeatureView& view, const std::vector<SelectionItem>& rows,
                        const render::PosNegRange* range) {
  std::vector<torch::Tensor> images, cells;
  for (const auto& r : rows) images.push_back(view.image(r.image));
  for (const auto& im : images) cells.push_back(view.crop(im));
  if (range) {
    for (size_t j = 0; j < rows.size(); ++j) cells.push_back(view.overlay_crop(rows[j], images[j], *range));
  }
  render::GridOptions go;
  go.columns = static_cast<int64_t>(rows.size());
  return render::image_grid(torch::stack(cells), go);
}

// The places (in dataset order) of the rows a figure shows: every selected image, then an even sample of the rest,
// then the first ones where the sample met selections; `target` in all, or every row when there are fewer.
std::vector<size_t> sample_places(size_t n, const std::vector<SelectionRun>& runs, size_t target) {
  std::set<size_t> keep;
  for (const auto& r : runs) {
    for (const auto& s : r.selected) keep.insert(s.item);
  }
  target = std::min(n, std::max(target, keep.size()));
  for (size_t j = 0; j < target && keep.size() < target; ++j) keep.insert(j * n / target);
  for (size_t i = 0; keep.size() < target; ++i) keep.insert(i);
  return {keep.begin(), keep.end()};
}

// Where a place sits in a sorted list of places.
size_t index_of(const std::vector<size_t>& places, size_t place) {
  return static_cast<size_t>(std::lower_bound(places.begin(), places.end(), place) - places.begin());
}

// The interactive page: the scatter, rule toggles, and on hover or click the image, its crop and its overlay. The
// pictures are sprite sheets under points/, the crops at the field's own resolution: the browser scales them up,
// smoothly, so that they look as the grids' crops drawn at the canvas size.
void write_page(const FeatureView& view, const std::vector<SelectionRun>& runs,
                const std::vector<SelectionItem>& shown, const render::PosNegRange* range, RunManifest& run) {
  const int64_t side = view.page_side(), n = static_cast<int64_t>(shown.size());
  std::optional<render::SpriteSheetWriter> images, overlays;
  render::SpriteSheetWriter crops(run.dir(), "points/crop", n, side, side);
  if (range) overlays.emplace(run.dir(), "points/overlay", n, side, side);
  nlohmann::json values = nlohmann::json::array();
  double fv_max = 1e-12;  // the colour scale spans -/+ the largest |f_v|, as the static scatter's
  for (const auto& it : shown) {
    fv_max = std::max(fv_max, std::abs(it.fv));
    auto image = view.image(it.image);
    if (!images) images.emplace(run.dir(), "points/image", n, image.size(1), image.size(2));
    const auto record = view.record(it.image);
    nlohmann::json v = {{"index", it.image},
                        {"id", record.id},
                        {"label", record.label},
                        {"fv", it.fv},
                        {"e_pos", it.e_pos},
                        {"e_neg", it.e_neg},
                        {"l1", it.l1},
                        {"image", images->add(image)},
                        {"crop", crops.add(view.crop(image, side))},
                        {"overlay", range ? nlohmann::json(overlays->add(view.overlay_crop(it, image, *range, side)))
                                          : nlohmann::json()}};
    for (const auto& r : runs) {
      bool in = std::any_of(r.selected.begin(), r.selected.end(),
                            [&](const Selected& s) { return s.row.image == it.image; });
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
  std::vector<std::vector<Rule>> specs;
  for (const auto& spec : rule_specs) specs.push_back(parse_rules(spec));
  auto selections = select_each(view.source(), specs, opt.rules);
  std::vector<SelectionRun> runs;
  for (size_t i = 0; i < rule_specs.size(); ++i) {
    const auto& spec = rule_specs[i];
    auto& sel = selections[i];
    if (!sel.shortfall.empty()) {
      spdlog::warn("rule {} selected {} of k = {} images: {}", spec, sel.selected.size(), opt.rules.k, sel.shortfall);
    }
    run["results"]["rules"][spec] = {
        {"selected", sel.selected.size()}, {"k", opt.rules.k}, {"shortfall", sel.shortfall}};
    runs.push_back({spec, std::move(sel.selected), sel.shortfall});
  }
  // The rows shown, in one more pass: the page's (every selection among them, with maps for the overlays) and the
  // scatter's points. Memory holds these, not the run.
  const size_t n = view.size();
  const bool overlays = view.has_positions();
  const auto page_places = sample_places(n, runs, opt.page_points);
  const auto scatter_places = sample_places(n, runs, opt.scatter_points);
  std::vector<SelectionItem> shown;
  std::vector<render::ScatterPoint> points;
  size_t place = 0;
  view.source()(overlays, [&](const SelectionItem& it) {
    if (shown.size() < page_places.size() && page_places[shown.size()] == place) shown.push_back(it);
    if (points.size() < scatter_places.size() && scatter_places[points.size()] == place) {
      points.push_back({it.e_pos, it.e_neg, it.fv});
    }
    ++place;
  });
  if (shown.size() != page_places.size()) throw Error("the run store changed while it was read: select again");
  auto row_at = [&](size_t item) -> const SelectionItem& { return shown[index_of(page_places, item)]; };
  // One overlay scale for every image the run shows: all grids and the page (the page holds every selection).
  std::optional<render::PosNegRange> range;
  if (overlays) {
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
      const auto& it = s.row;
      const auto record = view.record(it.image);
      csv << r.spec << "," << s.rank << "," << it.image << "," << csv_field(record.id) << "," << record.label << ","
          << fmt::format("{:.9g},{:.9g},{:.9g},{:.9g}", it.fv, it.e_pos, it.e_neg, s.score) << "\n";
    }
  }
  csv.close();
  run.add_output("selection.csv", "per rule: rank, image index and path, label, f_v, E+, E-, the rule's score");

  std::vector<render::ScatterMarks> marks;
  for (const auto& r : runs) {
    render::ScatterMarks m{r.spec, {}};
    std::vector<SelectionItem> rows;
    for (const auto& s : r.selected) {
      m.points.push_back(index_of(scatter_places, s.item));
      rows.push_back(row_at(s.item));
    }
    marks.push_back(m);
    if (r.selected.empty()) continue;
    std::string png = "grid-" + file_stem(r.spec) + ".png";
    std::optional<render::PosNegRange> row_range;
    if (range && opt.per_row_scale) row_range = view.range(rows);
    render::write_png(run.path(png), rule_grid(view, rows, row_range ? &*row_range : range ? &*range : nullptr));
    run.add_output(png, r.spec + ": the selected images cropped to the receptive field (top row) and their ± "
                                  "overlays (bottom row, scale in results.overlay_scale), by rank");
  }
  render::write_posneg_scatter(run.path("scatter"), view.feature_spec() + " at " + view.layer(), points, marks);
  run.add_output("scatter.png", points.size() == n
                                    ? "(E+, E-) of every image, coloured by f_v, lines of constant E, selections circled"
                                    : fmt::format("(E+, E-) of {} of the run's {} images (every selected one and an "
                                                  "even sample), coloured by f_v, lines of constant E, selections "
                                                  "circled", points.size(), n));
  write_page(view, runs, shown, range ? &*range : nullptr, run);
  return runs;
}

void write_mei_mii_rows(const store::RunStore& store, model::Model& model, const data::Dataset& data, size_t layer,
                        const FeatureViewOptions& view, int64_t k, const std::string& png_path) {
  std::vector<torch::Tensor> cells;
  for (size_t f = 0; f < store.config()["features"].size(); ++f) {
    const FeatureView fv(store, model, data, f, layer, view);
    SelectionOptions o;
    o.k = k;
    for (const auto& selection : select_each(fv.source(), {{Rule::Mei}, {Rule::Mii}}, o)) {  // one pass for both
      const auto& sel = selection.selected;
      for (int64_t j = 0; j < k; ++j) {
        auto c = fv.crop(fv.image(sel[std::min<size_t>(j, sel.size() - 1)].row.image));
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
