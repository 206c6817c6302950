#include "tension/atlas/atlas_run.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <tuple>

#include "tension/analysis/feature_view.h"
#include "tension/atlas/atlas_page.h"
#include "tension/atlas/atlas_plots.h"
#include "tension/atlas/atlas_points.h"
#include "tension/core/comm.h"
#include "tension/core/comm_tensors.h"
#include "tension/core/csv.h"
#include "tension/core/error.h"
#include "tension/core/npy.h"
#include "tension/core/progress.h"
#include "tension/core/stopwatch.h"
#include "tension/render/image_grid.h"
#include "tension/store/run_inputs.h"
#include "tension/viz/panels.h"
#include "tension/viz/spectrum.h"

namespace tension::atlas {

namespace {

std::string cell_name(const IconCell& c) { return std::to_string(c.xi) + "_" + std::to_string(c.yi); }

void write_cells_csv(const std::string& path, const std::vector<IconCell>& cells, const std::vector<Icon>& icons,
                     const std::vector<double>& cell_fv) {
  std::ofstream csv(path);
  csv << "xi,yi,images,icon_fv,mean_fv\n";
  for (size_t k = 0; k < cells.size(); ++k) {
    csv << cells[k].xi << "," << cells[k].yi << "," << cells[k].points.size() << "," << icons[k].fv << ","
        << cell_fv[k] << "\n";
  }
  if (!csv) throw Error("cannot write " + path);
}

// rows[i]: the run's row of layout point i.
void write_layout_csv(const std::string& path, const store::RunStore& st,
                      const std::vector<analysis::SelectionItem>& rows, const std::vector<float>& xy,
                      const std::vector<IconCell>& cells) {
  std::vector<std::string> in_cells(rows.size());
  for (const auto& c : cells) {
    for (int64_t p : c.points) {
      auto& s = in_cells[static_cast<size_t>(p)];
      s += (s.empty() ? "" : " ") + cell_name(c);
    }
  }
  std::ofstream csv(path);
  csv << "image,id,x,y,fv,e_pos,e_neg,l21,icon_cells\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    const auto record = st.image(r.image);
    csv << r.image << "," << csv_field(record ? record->id : "") << "," << xy[2 * i] << "," << xy[2 * i + 1] << ","
        << r.fv << "," << r.e_pos << "," << r.e_neg << "," << r.l21 << "," << in_cells[i] << "\n";
  }
  if (!csv) throw Error("cannot write " + path);
}

// The page's cells with their `top` best images (cells list their points in selection order: best first), whose
// crops and ± overlays go once each into the page's sprite sheets under points/.
void add_page_cells(const analysis::FeatureView& view, const std::vector<IconCell>& cells,
                    const std::vector<Icon>& icons, const std::vector<double>& cell_fv,
                    const std::vector<int64_t>& images, size_t top, RunManifest& run, AtlasPageData& page) {
  auto top_images = [&](const IconCell& c) {
    std::vector<int64_t> out;
    for (size_t j = 0; j < std::min(c.points.size(), top); ++j) out.push_back(images[static_cast<size_t>(c.points[j])]);
    return out;
  };
  std::map<int64_t, analysis::SelectionItem> rows;  // by dataset index, with phi maps: an image can sit in two cells
  for (const auto& c : cells) {
    for (int64_t image : top_images(c)) {
      if (!rows.count(image)) rows[image] = view.row(image);
    }
  }
  std::vector<analysis::SelectionItem> shown;  // as the cells show them: the overlay scale pools over each showing
  for (const auto& c : cells) {
    for (int64_t image : top_images(c)) shown.push_back(rows.at(image));
  }
  const bool overlays = view.has_positions();
  render::PosNegRange range;
  if (overlays) range = view.range(shown);
  std::map<int64_t, PageImage> pictures;
  const int64_t side = view.page_side(), n = static_cast<int64_t>(rows.size());
  render::SpriteSheetWriter crop_sheets(run.dir(), "points/crop", n, side, side);
  std::optional<render::SpriteSheetWriter> overlay_sheets;
  if (overlays) overlay_sheets.emplace(run.dir(), "points/overlay", n, side, side);
  for (const auto& [index, r] : rows) {
    auto& p = pictures[index];
    p = {index, view.record(index).id, r.fv, {}, {}};
    auto image = view.image(index);
    p.crop = crop_sheets.add(view.crop(image, side));
    if (overlays) p.overlay = overlay_sheets->add(view.overlay_crop(r, image, range, side));
  }
  page.crops = crop_sheets.finish();
  if (overlays) page.overlays = overlay_sheets->finish();
  for (size_t k = 0; k < cells.size(); ++k) {
    const auto& c = cells[k];
    PageCell pc{c.xi, c.yi, static_cast<int64_t>(c.points.size()), icons[k].fv, cell_fv[k],
                "cells/" + cell_name(c) + ".png", {}};
    for (int64_t image : top_images(c)) pc.top.push_back(pictures.at(image));
    page.cells.push_back(std::move(pc));
  }
}

// The icon options of an atlas, its canvas set.
IconOptions icon_options(const AtlasOptions& opt, const model::Model& m) {
  auto io = opt.icons;
  if (io.canvas <= 0) io.canvas = viz::default_canvas(m.input_spec());
  return io;
}

// The icon stage, on every rank of an MPI job: rank 0's targets (and MACO spectrum) go to all ranks, which render
// their share of the batches (render_icons); rank 0 returns every icon, the others none.
std::vector<Icon> shared_icons(model::Model& m, const attribution::Attributor& attributor, const std::string& layer,
                               std::vector<torch::Tensor> targets, IconOptions io, const RunManifest& run,
                               size_t* rendered) {
  if (comm::size() > 1) {
    const bool maco = io.param == "maco";
    if (maco && comm::leader()) targets.push_back(io.spectrum);
    targets = comm::broadcast_tensors(targets);
    if (maco) {
      io.spectrum = targets.back();
      targets.pop_back();
    }
  }
  return render_icons(m, attributor.options().features[0], model::parse_tap(layer), attributor.footprint(0, 0),
                      targets, io, {run.path("icons")}, rendered);
}

}  // namespace

void write_atlas(const store::RunStore& st, model::Model& m, const data::Dataset& ds, size_t feature, size_t layer,
                 const AtlasOptions& opt, RunManifest& run) {
  const auto& cfg = st.config();
  const std::string feature_spec = cfg["features"].at(feature).get<std::string>();
  const std::string layer_name = cfg["layers"].at(layer).get<std::string>();
  auto& results = run["results"]["atlas"];
  const Stopwatch t_all;

  // Selection: the top images by L2,1 norm (ties to the lower dataset index); colours from every image of the run.
  // Both stream the store: memory holds the chosen images, not the run. In an MPI job rank 0 selects, and every
  // rank joins the second pass and the icons; the rest is rank 0's.
  const auto rows = analysis::store_source(st, feature, layer);
  size_t run_images = 0;
  double fv_lo = 0, fv_hi = 0;
  std::map<int64_t, analysis::SelectionItem> chosen;  // by dataset index
  std::vector<int64_t> chosen_images;                // best first
  if (comm::leader()) {
    run_images = static_cast<size_t>(st.count_attributions(static_cast<int64_t>(feature), static_cast<int64_t>(layer)));
    if (run_images == 0) throw Error("the run has no attributions of " + feature_spec + " at " + layer_name);
    std::tie(fv_lo, fv_hi) = fv_colour_limits(
        [&](const std::function<void(double)>& emit) {
          rows(false, [&](const analysis::SelectionItem& r) { emit(r.fv); });
        },
        opt.colour_sds);
    analysis::SelectionOptions top;
    top.k = static_cast<int64_t>(opt.images);
    for (auto& s : analysis::select_top(rows, {analysis::Rule::L21}, top).selected) {
      chosen_images.push_back(s.row.image);
      chosen[s.row.image] = std::move(s.row);
    }
    spdlog::info("atlas of {} at {}: the top {} of {} images by L2,1 norm", feature_spec, layer_name, chosen.size(),
                 run_images);
  }
  chosen_images = comm::broadcast(std::move(chosen_images));

  // Their full cropped S, from a second pass over them alone.
  Stopwatch t0;
  attribution::AttributorOptions ao;
  ao.features = {feature::parse_feature(feature_spec, cfg.value("cos_power", 0))};
  ao.layers = {layer_name};
  ao.keep_s = true;
  ao.footprint.seed = cfg.value("seed", uint64_t{0});
  // The run's own plan, narrowed to this feature and layer: no planning (runs stored before plans were kept plan).
  if (auto stored = st.meta("plan"); !stored.is_null()) {
    ao.plan = attribution::plan_of(stored.get<attribution::AttributionPlan>(), feature, layer);
  }
  attribution::Attributor attributor(m, ao);
  const bool run_plan = attributor.plan_source() == attribution::PlanSource::given;
  PointsOptions po;
  po.batch_size = opt.batch_size;
  auto points = attribute_points(attributor, ds, chosen_images, po);
  if (!comm::leader()) {
    shared_icons(m, attributor, layer_name, {}, icon_options(opt, m), run, nullptr);
    return;
  }
  run.add_timing("atlas_attribution", t0.seconds());
  const auto n = static_cast<int64_t>(points.images.size());

  std::vector<analysis::SelectionItem> placed;  // the run's rows of the atlas's images, as points.images
  std::vector<EnergyPoint> placed_energies;
  for (int64_t img : points.images) {
    placed.push_back(chosen.at(img));
    placed_energies.push_back({placed.back().e_pos, placed.back().e_neg, placed.back().fv});
  }
  const std::string title = feature_spec + " at " + layer_name;
  write_selection_figure(
      run.path("selection"), title + ": images (colour f_v) and the atlas's selection",
      [&](const std::function<void(const EnergyPoint&)>& emit) {
        rows(false, [&](const analysis::SelectionItem& r) { emit({r.e_pos, r.e_neg, r.fv}); });
      },
      placed_energies, fv_lo, fv_hi);
  run.add_output("selection.png", "Fig 6a: (E+, E-) of every image, coloured by f_v, with density contours of the "
                                  "atlas's images");

  // Layout: UMAP of S summed over space, normalised as the paper's code does.
  t0.restart();
  auto vectors = points.vectors.to(torch::kFloat).contiguous();
  std::optional<Progress> bar;
  int64_t shown = 0;
  auto layout = umap_layout(vectors.data_ptr<float>(), n, vectors.size(1), opt.umap,
                            [&](const std::string& stage, int64_t done, int64_t total) {
                              if (stage != "layout") return;
                              if (!bar) bar.emplace("umap", static_cast<size_t>(total), "epoch");
                              bar->advance(static_cast<size_t>(done - shown));
                              shown = done;
                            });
  if (bar) bar->finish();
  auto xy = normalize_layout(layout.xy);
  run.add_timing("atlas_umap", t0.seconds());
  auto fv_t = points.fv.to(torch::kFloat).contiguous();
  std::vector<double> fv(fv_t.data_ptr<float>(), fv_t.data_ptr<float>() + n);
  write_layout_figure(run.path("layout"), title + ": UMAP of the attributions, coloured by f_v", xy, fv, fv_lo, fv_hi,
                      opt.grid.n);
  run.add_output("layout.png", "Fig 6b: UMAP of S summed over space, normalised to [0, 1], coloured by f_v");
  write_npy(run.path("layout.npy"), torch::from_blob(xy.data(), {n, 2}, torch::kFloat).clone());
  write_npy(run.path("vectors.npy"), vectors);
  write_npy(run.path("images.npy"), torch::tensor(points.images, torch::kLong));
  run.add_output("layout.npy", "float32 [N, 2]: the normalised layout, rows as images.npy");
  run.add_output("vectors.npy", "float32 [N, C]: the UMAP input, S summed over space");
  run.add_output("images.npy", "int64 [N]: the dataset index of each row");

  // Grid and icons.
  auto cells = assign_cells(xy, opt.grid);
  if (cells.empty()) {
    throw Error(fmt::format("no cell of the {0}x{0} grid holds more than {1} of the {2} images: use fewer cells "
                            "(--grid) or more images (--images)", opt.grid.n, opt.grid.min_points, n));
  }
  std::vector<torch::Tensor> targets;
  for (const auto& c : cells) {
    targets.push_back(icon_target(points.s.index_select(0, torch::tensor(c.points, torch::kLong))));
  }
  t0.restart();
  auto io = icon_options(opt, m);
  if (io.param == "maco" && !io.spectrum.defined()) {
    io.spectrum = viz::estimate_spectrum(
        ds, viz::SpectrumOptions{io.canvas, m.input_spec().channels, opt.spectrum_images});
  }
  size_t rendered = 0;
  auto icons = shared_icons(m, attributor, layer_name, targets, io, run, &rendered);
  run.add_timing("atlas_icons", t0.seconds());

  // The picture: icons cropped to the effective receptive field, bordered by their f_v.
  analysis::FeatureViewOptions vo;
  vo.field = opt.field;
  analysis::FeatureView view(st, m, ds, feature, layer, vo);
  const auto& rf = view.receptive_field();
  auto tile_opt = opt.tile;
  tile_opt.fv_lo = fv_lo;
  tile_opt.fv_hi = fv_hi;
  std::filesystem::create_directories(run.path("cells"));
  std::vector<torch::Tensor> tiles;
  for (size_t k = 0; k < cells.size(); ++k) {
    tiles.push_back(icon_tile(icons[k], view.receptive_field(), m.input_spec(), tile_opt));
    render::write_png(run.path("cells/" + cell_name(cells[k]) + ".png"), tiles.back());
  }
  auto atlas = compose_atlas(cells, tiles, opt.grid.n);
  render::write_png(run.path("atlas.png"), atlas);
  run.add_output("atlas.png", fmt::format("Fig 6c: the atlas, {0}x{0} cells, {1} icons (border: the icon's own f_v "
                                          "on blue-grey-red, {2:.3g} to {3:.3g})",
                                          opt.grid.n, cells.size(), fv_lo, fv_hi));

  // Tables, and the page with each cell's top images.
  std::vector<double> cell_fv;  // the mean f_v of each cell's images
  for (const auto& c : cells) {
    double sum = 0;
    for (int64_t p : c.points) sum += fv[static_cast<size_t>(p)];
    cell_fv.push_back(sum / static_cast<double>(c.points.size()));
  }
  write_cells_csv(run.path("cells.csv"), cells, icons, cell_fv);
  run.add_output("cells.csv", "per icon cell: grid position, number of images, the icon's f_v, the images' mean f_v");
  write_layout_csv(run.path("layout.csv"), st, placed, xy, cells);
  run.add_output("layout.csv", "per atlas image: dataset index, id, layout position, f_v, E+, E-, L2,1 norm, and "
                               "the icon cells it falls in");

  AtlasPageData page;
  page.title = "tension atlas: " + title;
  page.feature = feature_spec;
  page.layer = layer_name;
  page.atlas_png = "atlas.png";
  page.atlas_px = atlas.size(1);
  page.grid = opt.grid.n;
  page.fv_lo = fv_lo;
  page.fv_hi = fv_hi;
  for (size_t i = 0; i < fv.size(); ++i) page.points.push_back({xy[2 * i], xy[2 * i + 1], fv[i], points.images[i]});
  add_page_cells(view, cells, icons, cell_fv, points.images, static_cast<size_t>(opt.top_images), run, page);
  write_atlas_page(run.path("page.html"), page);
  run.add_output("page.html", "interactive atlas: zoom, hover a cell for its icon's f_v, its images and their ± maps");

  results = {{"feature", feature_spec},
             {"layer", layer_name},
             {"run_images", run_images},
             {"images", n},
             {"icons", cells.size()},
             {"icon_batches_rendered", rendered},
             {"grid", opt.grid.n},
             {"fv_colour_limits", {fv_lo, fv_hi}},
             {"umap", {{"epochs", layout.epochs}, {"a", layout.a}, {"b", layout.b}, {"exact_knn", layout.exact_knn}}},
             {"crop", {{"threshold", opt.field.threshold}, {"box", rf}}},
             {"attribution_plan", run_plan ? "the run's" : "planned"},
             {"seconds", t_all.seconds()}};
  spdlog::info("atlas: {} images, {} icons on a {}x{} grid in {}", n, cells.size(), opt.grid.n, opt.grid.n,
               run.dir());
}

void atlas_run(const AtlasRunOptions& a, RunManifest& run) {
  auto t = store::open_run_target(a.run, a.device, a.feature, a.layer, a, run);
  write_atlas(*t.in.store, *t.in.model, *t.in.data, t.feature, t.layer, a.atlas, run);
  run.write();
}

}  // namespace tension::atlas
