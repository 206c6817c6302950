#include "tension/analysis/uniqueness_run.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include "tension/analysis/feature_field.h"
#include "tension/analysis/kmeans_outputs.h"
#include "tension/analysis/selection.h"
#include "tension/analysis/uniqueness.h"
#include "tension/core/comm.h"
#include "tension/core/error.h"
#include "tension/core/stopwatch.h"
#include "tension/data/dataset.h"
#include "tension/feature/feature.h"
#include "tension/model/graph_cuts.h"
#include "tension/render/image_grid.h"
#include "tension/render/line_plot.h"
#include "tension/store/run_store.h"

namespace tension::analysis {

namespace fs = std::filesystem;

namespace {

// What the checks found for one feature layer.
struct LayerPlan {
  std::string layer, attribution;
  int64_t channels = 0;
  double depth = 0;  // ReLUs before the layer / all ReLUs (paper App. E's standardised axis)
};

// One feature family's features within a layer's run: features [first, first + count).
struct Family {
  std::string name;
  size_t first = 0, count = 0;
};

// U and the selections of one (layer, family, selector).
struct Cell {
  std::string layer, family, selector;
  double depth = 0, u = 0;
  std::vector<std::vector<int64_t>> selections;  // per feature, its top-m images (dataset indices)
};

const std::set<std::string> kFamilies = {"units", "kmeans"};

// Every check that does not need the dataset pass, before any work starts.
std::vector<LayerPlan> check_options(model::Model& m, const UniquenessOptions& opt, size_t images) {
  if (opt.layers.empty()) throw Error("uniqueness needs at least one feature layer (--layers)");
  if (std::set<std::string>(opt.layers.begin(), opt.layers.end()).size() != opt.layers.size()) {
    throw Error("the feature layers must be distinct");
  }
  if (!opt.attribution_layers.empty() && opt.attribution_layers.size() != opt.layers.size()) {
    throw Error(fmt::format("one attribution layer per feature layer is needed: {} for {} layers",
                            opt.attribution_layers.size(), opt.layers.size()));
  }
  if (opt.n < 1 || opt.m < 1) throw Error("uniqueness needs n >= 1 features and m >= 1 images");
  if (opt.families.empty()) throw Error("no feature family: use --features units,kmeans");
  for (const auto& f : opt.families) {
    if (!kFamilies.count(f)) throw Error("unknown feature family '" + f + "': use units or kmeans");
  }
  if (opt.selectors.empty()) throw Error("no selector: use --selectors mei,l1,l2");
  for (const auto& s : opt.selectors) {
    if (parse_rules(s).size() != 1) throw Error("selector '" + s + "' combines rules: give one rule per selector");
  }
  if (opt.shared_min < 1 || opt.shared_min > opt.n) {
    throw Error(fmt::format("--shared-min {} must be between 1 and n = {}", opt.shared_min, opt.n));
  }
  if (opt.m > static_cast<int64_t>(images)) {
    throw Error(fmt::format("m = {} is larger than the {} images of the dataset", opt.m, images));
  }
  const bool kmeans = std::count(opt.families.begin(), opt.families.end(), "kmeans") > 0;
  if (kmeans && (opt.kmeans_k > static_cast<int64_t>(images) || opt.kmeans_k < opt.n)) {
    throw Error(fmt::format("k-means features need n = {} <= k = {} <= the {} images (--kmeans-k)", opt.n, opt.kmeans_k,
                            images));
  }
  if (!opt.rows_layer.empty() && std::find(opt.layers.begin(), opt.layers.end(), opt.rows_layer) == opt.layers.end()) {
    throw Error("--rows-layer " + opt.rows_layer + " is not one of the feature layers");
  }

  std::set<std::string> names;
  for (const auto& l : m.layers()) names.insert(l.name);
  std::vector<model::Tap> taps;
  for (const auto& l : opt.layers) {
    if (!names.count(l)) throw Error("model " + m.name() + " has no layer '" + l + "' (tension layers lists them)");
    taps.push_back(feature::feature_tap(m, l));
  }
  auto cuts = model::analyse_cuts(m, nullptr, taps);
  const size_t first_extra = cuts.taps.size() - taps.size();
  std::vector<LayerPlan> plans;
  for (size_t i = 0; i < opt.layers.size(); ++i) {
    LayerPlan p;
    p.layer = opt.layers[i];
    p.attribution =
        opt.attribution_layers.empty() ? cuts.taps[first_extra + i].preceding_cut : opt.attribution_layers[i];
    if (p.attribution.empty()) {
      throw Error("layer " + p.layer +
                  " has no preceding tap to attribute to (no post-ReLU layer lies on every "
                  "path from the input to it): give --attribution-layer");
    }
    for (const auto& c : cuts.taps) {
      if (c.tap.side == model::TapSide::Output && c.tap.layer == p.layer) p.depth = model::relu_depth(c, cuts);
    }
    p.channels = feature::feature_channels(m, p.layer, opt.model.seed);
    if (opt.n > p.channels && std::count(opt.families.begin(), opt.families.end(), "units")) {
      throw Error(fmt::format("n = {} is larger than the {} channels of layer {}", opt.n, p.channels, p.layer));
    }
    plans.push_back(p);
  }
  return plans;
}

// tops[selector][feature]: the dataset indices of the feature's top m images under the selector, from one pass over
// the store's rows that keeps only those m per feature and selector.
std::map<std::string, std::vector<std::vector<int64_t>>> top_images(const store::RunStore& st, size_t features,
                                                                   const std::vector<std::string>& selectors,
                                                                   int64_t m) {
  SelectionOptions so;
  so.k = m;
  std::vector<std::vector<Ranker>> rankers(selectors.size());
  for (size_t s = 0; s < selectors.size(); ++s) {
    for (size_t f = 0; f < features; ++f) rankers[s].emplace_back(parse_rules(selectors[s]), so);
  }
  st.for_each_attribution(store::RowQuery{}, [&](store::AttributionRecord&& r) {
    const auto feature = static_cast<size_t>(r.feature);
    const auto item = selection_item(std::move(r));
    for (auto& per_feature : rankers) per_feature.at(feature).add(item);
  });
  std::map<std::string, std::vector<std::vector<int64_t>>> tops;
  for (size_t s = 0; s < selectors.size(); ++s) {
    for (auto& ranker : rankers[s]) {
      std::vector<int64_t> images;
      for (const auto& sel : ranker.finish().selected) images.push_back(sel.row.image);
      tops[selectors[s]].push_back(std::move(images));
    }
  }
  return tops;
}

// The paper's colours (Fig 8a): MEI red, L2 light green, L1 dark green.
std::string selector_colour(const std::string& s) {
  if (s == "mei") return "#d62728";
  if (s == "l2") return "#8fd175";
  if (s == "l1") return "#1a7a2e";
  if (s == "l21") return "#1f77b4";
  return "";
}

std::string selector_label(const std::string& s) {
  if (s == "mei") return "MEI (f_v)";
  if (s == "l1") return "||S||_1";
  if (s == "l2") return "||S||_2";
  if (s == "l21") return "||S||_{2,1}";
  return s;
}

// Fig 8a: U against depth, one line per selector, solid for units and dotted for k-means, the bounds drawn.
void write_fig8a(const std::vector<Cell>& cells, const UniquenessOptions& opt, RunManifest& run) {
  render::LinePanel p;
  p.title = fmt::format("U of the top {} images of {} features", opt.m, opt.n);
  p.xlabel = "layer depth (ReLUs before the layer / all ReLUs)";
  p.ylabel = "uniqueness U (eq. 6)";
  p.fixed_y = p.fixed_x = true;  // U in [1/n, 1] on the paper's standardised depth axis
  p.ymax = 1.05;
  p.key = "top left";  // the layers after the first ReLU start right of it
  for (const auto& family : opt.families) {
    for (const auto& selector : opt.selectors) {
      render::Series s(selector_label(selector) + ", " + family, {}, {}, selector_colour(selector),
                       family == "units" ? 1 : 3);
      for (const auto& c : cells) {
        if (c.family != family || c.selector != selector) continue;
        s.x.push_back(c.depth);
        s.y.push_back(c.u);
      }
      p.series.push_back(s);
    }
  }
  p.series.emplace_back("bound 1", std::vector<double>{0, 1}, std::vector<double>{1, 1}, "#808080", 2, false);
  p.series.emplace_back(fmt::format("bound 1/n = {:.3g}", 1.0 / opt.n), std::vector<double>{0, 1},
                        std::vector<double>{1.0 / opt.n, 1.0 / opt.n}, "#808080", 2, false);
  render::write_line_figure(run.path("fig8a"), {p});
  run.add_output("fig8a.png", "Fig 8a: uniqueness U against depth per selector and family (also .svg, .gp, .dat)");
}

// A white cell where a grid row has nothing to show.
torch::Tensor blank(int64_t side) { return torch::ones({3, side, side}); }

// Fig 8b: for the first six features of the family, its top MEIs, then its top MTIs (largest ||S||_1) with their ±
// overlays in a row underneath, all cropped to `field`.
void write_fig8b(const store::RunStore& st, model::Model& m, const data::Dataset& ds, const Family& family,
                 const model::Box& field, const UniquenessOptions& opt, const std::string& png) {
  std::vector<torch::Tensor> cells;
  const int64_t side = opt.view.canvas, k = opt.rows;
  const size_t rows = std::min<size_t>(family.count, 6);
  for (size_t f = family.first; f < family.first + rows; ++f) {
    FeatureView view(st, m, ds, f, 0, opt.view, field);
    SelectionOptions so;
    so.k = k;
    const auto tops = select_each(view.source(), {{Rule::Mei}, {Rule::L1}}, so);  // one pass for both
    const auto& meis = tops[0].selected;
    std::vector<SelectionItem> mtis;  // with their phi maps
    for (const auto& s : tops[1].selected) mtis.push_back(view.row(s.row.image));
    const auto range = view.range(mtis);
    std::vector<torch::Tensor> top(static_cast<size_t>(2 * k), blank(side)), under(top);
    for (size_t i = 0; i < meis.size(); ++i) top[i] = view.crop(view.image(meis[i].row.image), side);
    for (size_t i = 0; i < mtis.size(); ++i) {
      auto image = view.image(mtis[i].image);
      top[static_cast<size_t>(k) + i] = view.crop(image, side);
      if (view.has_positions()) under[static_cast<size_t>(k) + i] = view.overlay_crop(mtis[i], image, range, side);
    }
    cells.insert(cells.end(), top.begin(), top.end());
    cells.insert(cells.end(), under.begin(), under.end());
  }
  render::GridOptions g;
  g.columns = 2 * k;
  for (int64_t i = 0; i < k; ++i) g.column_labels.push_back(fmt::format("MEI {}", i + 1));
  for (int64_t i = 0; i < k; ++i) g.column_labels.push_back(fmt::format("MTI {} (||S||_1)", i + 1));
  render::write_png(png, render::image_grid(torch::stack(cells), g));
}

// Fig 16: the images in the top-m of at least shared_min features, most shared first (at most 10), cropped to
// `field`, each labelled with its count.
void write_fig16(const store::RunStore& st, model::Model& m, const data::Dataset& ds, const Family& family,
                 const model::Box& field, const std::vector<std::pair<int64_t, int>>& shared,
                 const UniquenessOptions& opt, const std::string& png) {
  FeatureView view(st, m, ds, family.first, 0, opt.view, field);
  std::vector<torch::Tensor> crops;
  render::GridOptions g;
  for (size_t i = 0; i < std::min<size_t>(shared.size(), 10); ++i) {
    crops.push_back(view.crop(view.image(shared[i].first), opt.view.canvas));
    g.column_labels.push_back(fmt::format("#{}: {}/{}", shared[i].first, shared[i].second, family.count));
  }
  g.columns = static_cast<int64_t>(crops.size());
  render::write_png(png, render::image_grid(torch::stack(crops), g));
}

}  // namespace

void uniqueness_run(const UniquenessOptions& opt, RunManifest& run) {
  Stopwatch total;
  auto m = model::load_model(opt.model);
  auto ds = data::open_dataset(opt.data);
  const size_t images = opt.pass.limit > 0 ? std::min(opt.pass.limit, ds->size()) : ds->size();
  run["params"] = opt;
  run["model"] = {{"name", m->name()}, {"weights", m->weights_id()}};
  run["dataset"] = {{"spec", opt.data}, {"sha256", data::listing_hash(*ds)}, {"images", images}};
  Stopwatch phase;
  const auto plans = check_options(*m, opt, images);
  run.add_timing("checks", phase.seconds());
  run.write("running");

  // In an MPI job every rank joins the dataset passes (k-means sampling, attribution); the selections, figures and
  // tables are rank 0's.
  std::vector<Cell> cells;
  std::ofstream shared_csv;
  if (comm::leader()) {
    shared_csv.open(run.path("shared.csv"));
    shared_csv << "layer,family,selector,image,count\n";
  }
  nlohmann::json layers_json = nlohmann::json::array();
  const std::string rows_layer = opt.rows_layer.empty() ? plans.back().layer : opt.rows_layer;
  for (size_t li = 0; li < plans.size(); ++li) {
    const auto& p = plans[li];
    spdlog::info("uniqueness: layer {} ({}/{}), attributed to {}", p.layer, li + 1, plans.size(), p.attribution);
    const std::string dir = fs::absolute(run.path(p.layer)).string();
    std::vector<std::string> features;
    std::vector<Family> families;
    nlohmann::json layer_json = {{"layer", p.layer}, {"attribution_layer", p.attribution}, {"depth", p.depth}};
    for (const auto& name : opt.families) {
      Family fam{name, features.size(), 0};
      if (name == "units") {
        auto units = feature::random_units(p.channels, opt.n, opt.model.seed + li);
        for (int64_t u : units) features.push_back(p.layer + ":" + std::to_string(u));
        layer_json["units"] = units;
      } else {
        const std::string km_dir = dir + "/kmeans";
        // Rank 0 decides for the job: a rank must not see the file rank 0 has just written and skip the pass.
        if (comm::broadcast(comm::leader() && fs::exists(km_dir + "/directions.npy") ? "done" : "") != "done") {
          phase.restart();
          KMeansRunOptions ko;
          ko.model = opt.model;
          ko.data = opt.data;
          ko.layer = p.layer;
          ko.kmeans.k = opt.kmeans_k;
          ko.kmeans.iterations = opt.kmeans_iterations;
          ko.sample.limit = images;
          ko.sample.batch_size = opt.pass.batch_size;
          ko.pick = opt.n;
          auto km_run = run.nested(p.layer + "/kmeans", "kmeans");
          kmeans_run(ko, km_run);
          run.add_timing(p.layer + " kmeans", phase.seconds());
        }
        for (int64_t j = 0; j < opt.n; ++j) {
          features.push_back(fmt::format("{}:@{}/directions.npy#{}", p.layer, km_dir, j));
        }
      }
      fam.count = features.size() - fam.first;
      families.push_back(fam);
    }

    phase.restart();
    store::AttributeOptions ao;
    ao.model = opt.model;
    ao.data = opt.data;
    ao.features = features;
    ao.layers = {p.attribution};
    ao.cos_power = 2;  // App H: k-means directions read as dot*cos^2; units are read plainly either way
    ao.pass = opt.pass;
    ao.verify = opt.verify;
    ao.plan_cache = opt.plan_cache;
    auto attr_run = run.nested(p.layer + "/attribution", "attribute");
    store::attribute_run(ao, attr_run);
    run.add_timing(p.layer + " attribution", phase.seconds());
    if (!comm::leader()) continue;

    auto st = store::RunStore::open(dir + "/attribution");
    // The crops of the layer's figures: the effective receptive field of its first feature, measured once (every
    // feature reads the centre position; measuring each would cost 300 passes apiece).
    std::optional<model::Box> field;
    auto crop = [&] {
      if (!field) field = feature_field(*m, feature::parse_feature(features.front(), ao.cos_power), opt.view.field);
      return *field;
    };
    const auto tops = top_images(*st, features.size(), opt.selectors, opt.m);
    for (const auto& fam : families) {
      for (const auto& selector : opt.selectors) {
        Cell c{p.layer, fam.name, selector, p.depth, 0, {}};
        for (size_t f = fam.first; f < fam.first + fam.count; ++f) {
          c.selections.push_back(tops.at(selector).at(f));
        }
        c.u = uniqueness(c.selections, opt.m);
        std::vector<std::pair<int64_t, int>> counts;
        for (const auto& [image, count] : selection_counts(c.selections)) counts.push_back({image, count});
        std::stable_sort(counts.begin(), counts.end(),
                         [](const auto& a, const auto& b) { return a.second > b.second; });
        nlohmann::json shared = nlohmann::json::array();
        for (const auto& [image, count] : counts) {
          shared_csv << p.layer << "," << fam.name << "," << selector << "," << image << "," << count << "\n";
          if (count >= opt.shared_min) shared.push_back({{"image", image}, {"count", count}});
        }
        layer_json["U"][fam.name][selector] = c.u;
        layer_json["shared"][fam.name][selector] = shared;
        spdlog::info("  {} {}: U = {:.3f} ({} images shared by >= {} features)", fam.name, selector, c.u, shared.size(),
                     opt.shared_min);
        if (opt.crop_figures && selector == "l1" && !shared.empty()) {
          const std::string png = fmt::format("fig16-{}-{}.png", p.layer, fam.name);
          counts.resize(shared.size());
          write_fig16(*st, *m, *ds, fam, crop(), counts, opt, run.path(png));
          run.add_output(png, fmt::format("Fig 16: images in the top {} by ||S||_1 of at least {} of {} {} "
                                          "features of {}",
                                          opt.m, opt.shared_min, fam.count, fam.name, p.layer));
        }
        cells.push_back(std::move(c));
      }
    }
    if (opt.crop_figures && p.layer == rows_layer) {
      write_fig8b(*st, *m, *ds, families.front(), crop(), opt, run.path("fig8b.png"));
      run.add_output("fig8b.png", fmt::format("Fig 8b: {} features of {}: top {} MEIs, then top {} MTIs by "
                                              "||S||_1 with their ± overlays underneath",
                                              families.front().name, p.layer, opt.rows, opt.rows));
    }
    layers_json.push_back(layer_json);
    run["results"]["layers"] = layers_json;
    run.write("running");
  }
  if (!comm::leader()) return;
  shared_csv.close();
  run.add_output("shared.csv", "per layer, family and selector: every selected image and how many features chose it");

  std::ofstream csv(run.path("uniqueness.csv"));
  csv << "layer,depth,family,selector,n,m,U\n";
  for (const auto& c : cells) {
    csv << c.layer << "," << c.depth << "," << c.family << "," << c.selector << "," << c.selections.size() << ","
        << opt.m << "," << c.u << "\n";
  }
  csv.close();
  run.add_output("uniqueness.csv", "U (eq. 6) per layer, family and selector");
  write_fig8a(cells, opt, run);
  run.add_timing("total", total.seconds());
  run.write();
}

}  // namespace tension::analysis
