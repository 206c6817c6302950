#include "tension/analysis/inversion_check.h"

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>

#include "tension/analysis/mti_search.h"
#include "tension/attribution/attributor.h"
#include "tension/core/error.h"
#include "tension/core/percentile.h"
#include "tension/core/progress.h"
#include "tension/core/sha256.h"
#include "tension/data/preprocess.h"
#include "tension/render/diverging.h"
#include "tension/render/line_plot.h"
#include "tension/viz/feature_scale.h"
#include "tension/viz/spectrum.h"

namespace tension::analysis {

namespace fs = std::filesystem;

namespace {

const char* const kCurvesHeader = "layer,through,unit,image,sign,step,fv,fv_sd";
const char* const kMtisHeader = "layer,through,unit,sd,rank,image,fv,in_window";
const char* const kSigns[2] = {"s+", "s-"};

// One (unit, MTI) pair of a layer: its S+ (side 0) and S- (side 1) curves, f_v and f_v / sd per step.
struct PairCurves {
  std::string layer, through;
  int64_t unit = 0, image = 0;
  std::vector<double> fv[2], fv_sd[2];
};

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string field;
  while (std::getline(ss, field, ',')) out.push_back(field);
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

// The pairs whose S+ and S- curves curves.csv holds in full (`steps` rows each, S+ first, steps in order), and
// the length of the file's part that holds them: what follows is the tail of an interrupted write.
struct CurveFile {
  std::vector<PairCurves> pairs;
  size_t valid_bytes = 0;
};

CurveFile read_curves(const std::string& path, int64_t steps) {
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string header = std::string(kCurvesHeader) + "\n";
  if (text.compare(0, header.size(), header) != 0) throw Error(path + " is not a curves.csv of an inversion check");
  CurveFile out;
  out.valid_bytes = header.size();
  PairCurves cur;
  int64_t row = 0;  // rows of `cur` read so far
  for (size_t pos = header.size(), end; (end = text.find('\n', pos)) != std::string::npos; pos = end + 1) {
    auto f = split_csv_line(text.substr(pos, end - pos));
    const int side = static_cast<int>(row / steps);
    try {
      if (f.size() != 8 || f[4] != kSigns[side] || std::stoll(f[5]) != row % steps) break;
      if (row == 0) {
        cur = PairCurves{f[0], f[1], std::stoll(f[2]), std::stoll(f[3]), {}, {}};
      } else if (f[0] != cur.layer || f[1] != cur.through || std::stoll(f[2]) != cur.unit ||
                 std::stoll(f[3]) != cur.image) {
        break;
      }
      cur.fv[side].push_back(std::stod(f[6]));
      cur.fv_sd[side].push_back(f[7].empty() ? std::numeric_limits<double>::quiet_NaN() : std::stod(f[7]));
    } catch (const std::logic_error&) {
      break;  // a field cut short
    }
    if (++row == 2 * steps) {
      out.pairs.push_back(std::move(cur));
      out.valid_bytes = end + 1;
      row = 0;
    }
  }
  return out;
}

// One unit's MTIs as mtis.csv keeps them.
struct UnitMtis {
  int64_t unit = 0;
  double sd = 0;
  std::vector<MtiPick> picks;
};

std::map<std::string, std::vector<UnitMtis>> read_mtis(const std::string& path) {
  std::map<std::string, std::vector<UnitMtis>> out;
  std::ifstream in(path);
  if (!in) return out;
  std::string line;
  if (!std::getline(in, line) || line != kMtisHeader) throw Error(path + " is not an mtis.csv of an inversion check");
  while (std::getline(in, line)) {
    auto f = split_csv_line(line);
    if (f.size() != 8) throw Error(path + ": malformed row '" + line + "'");
    auto& units = out[f[0]];
    const int64_t unit = std::stoll(f[2]);
    if (units.empty() || units.back().unit != unit) units.push_back({unit, std::stod(f[3]), {}});
    units.back().picks.push_back({std::stoull(f[5]), std::stod(f[6]), 0, f[7] == "1"});
  }
  return out;
}

// mtis.csv holds every layer searched so far; it is replaced whole, so that it never holds half a layer.
void write_mtis(const std::string& path, const std::vector<std::string>& layers,
                const std::vector<std::string>& through, const std::map<std::string, std::vector<UnitMtis>>& mtis) {
  std::ofstream out(path + ".tmp");
  out << kMtisHeader << "\n";
  for (size_t i = 0; i < layers.size(); ++i) {
    auto it = mtis.find(layers[i]);
    if (it == mtis.end()) continue;
    for (const auto& u : it->second) {
      for (size_t r = 0; r < u.picks.size(); ++r) {
        out << layers[i] << ',' << through[i] << ',' << u.unit << ','
            << fmt::format("{:.9g}", u.sd) << ',' << r << ',' << u.picks[r].index << ','
            << fmt::format("{:.9g}", u.picks[r].fv) << ',' << (u.picks[r].in_window ? 1 : 0) << '\n';
      }
    }
  }
  out.close();
  if (!out) throw Error("cannot write " + path);
  fs::rename(path + ".tmp", path);
}

// What decides the numbers of a check (not the batch size, which changes speed only).
nlohmann::json protocol_json(model::Model& m, const data::Dataset& ds, const InversionCheckOptions& opt,
                             const std::vector<std::string>& through, int64_t canvas) {
  const auto& r = opt.optimize;
  std::string spectrum = "estimated";
  if (opt.spectrum.defined()) {
    auto s = opt.spectrum.to(torch::kFloat).contiguous().cpu();
    spectrum = sha256_string(std::string(static_cast<const char*>(s.data_ptr()), s.numel() * sizeof(float)));
  }
  return {{"model", m.name()},
          {"weights", m.weights_id()},
          {"data", ds.describe()},
          {"listing_sha256", data::listing_hash(ds)},
          {"layers", opt.layers},
          {"through", through},
          {"units", opt.units},
          {"mtis", opt.mtis},
          {"search_images", opt.search_images},
          {"start", opt.start},
          {"steps", r.steps},
          {"lr", r.lr},
          {"transforms", r.transforms},
          {"crop_input", r.crop_input},
          {"param", opt.param},
          {"canvas", canvas},
          {"spectrum", spectrum},
          {"cos_power", opt.cos_power},
          {"seed", opt.seed}};
}

// Starts a check in `dir` or finds the one it continues; throws when `dir` holds a check with other options.
void claim_dir(const std::string& dir, const nlohmann::json& protocol) {
  fs::create_directories(dir);
  const std::string path = dir + "/protocol.json";
  if (fs::exists(path)) {
    auto old = nlohmann::json::parse(std::ifstream(path));
    if (old != protocol) {
      throw Error(dir + " holds an inversion check with other options (" + path +
                  "): use another output folder, or remove it to start again");
    }
    return;
  }
  if (fs::exists(dir + "/curves.csv") || fs::exists(dir + "/mtis.csv")) {
    throw Error(dir + " holds curves.csv or mtis.csv without protocol.json: use another output folder");
  }
  std::ofstream(path) << protocol.dump(2) << "\n";
}

// The MTIs of a layer's units: read back from mtis.csv, or searched (with sd(f_v) over the same images).
std::vector<UnitMtis> layer_mtis(model::Model& m, const data::Dataset& ds, const InversionCheckOptions& opt,
                                 const std::vector<feature::Feature>& features, const std::vector<int64_t>& units,
                                 const std::string& through) {
  const size_t limit = opt.search_images > 0 ? opt.search_images : ds.size();
  auto sd = viz::feature_sd(m, features, ds, limit);
  attribution::AttributorOptions ao;
  ao.features = features;
  ao.layers = {through};
  ao.footprint.seed = opt.seed;
  attribution::Attributor search(m, ao);
  auto sets = find_mti_sets(search, ds, limit, static_cast<size_t>(opt.mtis));
  std::vector<UnitMtis> out;
  for (size_t u = 0; u < units.size(); ++u) {
    if (static_cast<int64_t>(sets[u].size()) < opt.mtis) {
      throw Error(fmt::format("{}: only {} readable images for {} MTIs", features[u].spec, sets[u].size(), opt.mtis));
    }
    const size_t outside = std::count_if(sets[u].begin(), sets[u].end(), [](const auto& p) { return !p.in_window; });
    if (outside > 0) {
      spdlog::warn("{}: {} of its {} MTIs lie outside -0.5 sd < f_v < 0 (the largest ||S||_1 there)", features[u].spec,
                   outside, sets[u].size());
    }
    out.push_back({units[u], sd[u], std::move(sets[u])});
  }
  return out;
}

// Median and range over pairs of f_v / sd at each step, for one sign of one layer.
render::Band band(const std::vector<const PairCurves*>& pairs, int side, int64_t steps) {
  render::Band b{side == 0 ? "S+ (median, range)" : "S- (median, range)",
                 side == 0 ? render::kDivergingStops[3] : render::kDivergingStops[1], {}, {}, {}, {}};
  for (int64_t s = 0; s < steps; ++s) {
    std::vector<float> v;
    for (const auto* p : pairs) {
      if (std::isfinite(p->fv_sd[side][s])) v.push_back(static_cast<float>(p->fv_sd[side][s]));
    }
    if (v.empty()) continue;
    b.x.push_back(static_cast<double>(s));
    b.lo.push_back(*std::min_element(v.begin(), v.end()));
    b.hi.push_back(*std::max_element(v.begin(), v.end()));
    b.mid.push_back(percentile(v, 50));
  }
  return b;
}

// Fig. 14 and the per-layer summary from the finished curves.
std::vector<InversionLayerSummary> summarise(const std::vector<PairCurves>& pairs,
                                             const std::vector<std::string>& layers,
                                             const std::vector<std::string>& through, int64_t steps,
                                             const std::string& dir) {
  std::vector<InversionLayerSummary> out;
  std::vector<render::BandPanel> panels;
  for (size_t i = 0; i < layers.size(); ++i) {
    std::vector<const PairCurves*> mine;
    for (const auto& p : pairs) {
      if (p.layer == layers[i]) mine.push_back(&p);
    }
    InversionLayerSummary s;
    s.layer = layers[i];
    s.through = through[i];
    s.pairs = mine.size();
    std::set<int64_t> units;
    size_t raised = 0, lowered = 0, both = 0;
    std::vector<float> end_pos, end_neg;
    for (const auto* p : mine) {
      units.insert(p->unit);
      const bool up = p->fv[0].back() > p->fv[0].front(), down = p->fv[1].back() < p->fv[1].front();
      raised += up;
      lowered += down;
      both += up && down;
      if (std::isfinite(p->fv_sd[0].back())) end_pos.push_back(static_cast<float>(p->fv_sd[0].back()));
      if (std::isfinite(p->fv_sd[1].back())) end_neg.push_back(static_cast<float>(p->fv_sd[1].back()));
    }
    s.units = static_cast<int64_t>(units.size());
    const double n = std::max<double>(1, static_cast<double>(mine.size()));
    s.s_pos_raised = static_cast<double>(raised) / n;
    s.s_neg_lowered = static_cast<double>(lowered) / n;
    s.both = static_cast<double>(both) / n;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    s.s_pos_median_end = end_pos.empty() ? nan : percentile(end_pos, 50);
    s.s_neg_median_end = end_neg.empty() ? nan : percentile(end_neg, 50);
    out.push_back(s);
    render::BandPanel panel{fmt::format("{} through {} ({} units, {} pairs)", s.layer, s.through, s.units, s.pairs),
                            "step", "f_v / sd(f_v)", {band(mine, 0, steps), band(mine, 1, steps)}};
    panels.push_back(std::move(panel));
  }
  render::write_band_figure(dir + "/fig14", panels);

  std::ofstream csv(dir + "/summary.csv");
  csv << "layer,through,units,pairs,s_pos_raised,s_neg_lowered,both,s_pos_median_end_sd,s_neg_median_end_sd\n";
  nlohmann::json js = nlohmann::json::array();
  for (const auto& s : out) {
    csv << s.layer << ',' << s.through << ',' << s.units << ',' << s.pairs << ','
        << fmt::format("{:.6g},{:.6g},{:.6g},{:.6g},{:.6g}", s.s_pos_raised, s.s_neg_lowered, s.both,
                       s.s_pos_median_end, s.s_neg_median_end)
        << '\n';
    js.push_back({{"layer", s.layer}, {"through", s.through}, {"units", s.units}, {"pairs", s.pairs},
                  {"s_pos_raised", s.s_pos_raised}, {"s_neg_lowered", s.s_neg_lowered}, {"both", s.both},
                  {"s_pos_median_end_sd", s.s_pos_median_end}, {"s_neg_median_end_sd", s.s_neg_median_end}});
  }
  csv.close();
  if (!csv) throw Error("cannot write " + dir + "/summary.csv");
  std::ofstream(dir + "/summary.json") << js.dump(2) << "\n";
  return out;
}

}  // namespace

std::string through_layer(const model::Model& m, const std::vector<std::string>& layers,
                          const std::vector<std::string>& through, size_t i) {
  if (!through.empty()) return through.at(i);
  return i > 0 ? layers.at(i - 1) : m.layers().front().name + ":in";
}

uint64_t inversion_start_seed(uint64_t seed, size_t layer, int64_t unit, size_t rank) {
  // Distinct for every key of a check (up to 1e6 units and 1e3 MTIs per layer).
  return seed * 1000003ULL + 1000000000ULL * (layer + 1) + 1000ULL * static_cast<uint64_t>(unit) + rank;
}

uint64_t inversion_draws_seed(uint64_t seed, size_t layer) { return seed + 7919ULL * (layer + 1); }

// Paper App. F: S+ and S- inversions through the preceding layer for the MTIs of random units, f_v per step.
InversionCheckResult inversion_check(model::Model& m, const data::Dataset& ds, const InversionCheckOptions& opt,
                                     const std::string& dir) {
  const auto& layers = opt.layers;
  if (layers.empty()) throw Error("the inversion check needs at least one layer");
  if (std::set<std::string>(layers.begin(), layers.end()).size() != layers.size()) {
    throw Error("the inversion check's layers must be distinct");
  }
  if (!opt.through.empty() && opt.through.size() != layers.size()) {
    throw Error(fmt::format("one through-layer per layer is needed: {} for {} layers", opt.through.size(),
                            layers.size()));
  }
  if (opt.units < 1 || opt.mtis < 1 || opt.batch < 2) {
    throw Error("the inversion check needs units >= 1, mtis >= 1 and a batch of at least 2 inversions");
  }
  if (opt.start != "noise" && opt.start != "mti") {
    throw Error("unknown start '" + opt.start + "' (use noise or mti)");
  }
  std::vector<std::string> through;
  for (size_t i = 0; i < layers.size(); ++i) through.push_back(through_layer(m, layers, opt.through, i));
  for (size_t i = 0; i < layers.size(); ++i) {
    for (const auto& name : {layers[i], through[i]}) {
      // The CSVs hold layer names unquoted.
      if (name.find_first_of(",\"\n") != std::string::npos) {
        throw Error("layer name '" + name + "' holds a comma or quote");
      }
    }
  }
  const auto& in = m.input_spec();
  const int64_t canvas = opt.canvas > 0 ? opt.canvas : viz::default_canvas(in), steps = opt.optimize.steps;
  claim_dir(dir, protocol_json(m, ds, opt, through, canvas));

  // Pairs finished by an earlier run; the tail of an interrupted write is cut off.
  const std::string curves_path = dir + "/curves.csv", mtis_path = dir + "/mtis.csv";
  if (!fs::exists(curves_path)) std::ofstream(curves_path) << kCurvesHeader << "\n";
  auto done = read_curves(curves_path, steps);
  fs::resize_file(curves_path, done.valid_bytes);
  std::set<std::tuple<std::string, int64_t, int64_t>> finished;
  for (const auto& p : done.pairs) finished.insert({p.layer, p.unit, p.image});
  InversionCheckResult result;
  result.pairs_done_before = done.pairs.size();
  auto mtis = read_mtis(mtis_path);

  const bool noise = opt.start == "noise";
  torch::Tensor spectrum = opt.spectrum;
  if (noise && opt.param == "maco" && !spectrum.defined()) {
    spectrum = viz::estimate_spectrum(ds, viz::SpectrumOptions{canvas, in.channels, opt.search_images});
  }
  model::InputSpec canvas_spec = in;
  canvas_spec.height = canvas_spec.width = canvas;
  const int64_t pairs_per_batch = opt.batch / 2;
  std::ofstream curves(curves_path, std::ios::app);
  size_t batches = 0;
  for (size_t i = 0; i < layers.size(); ++i) {
    const int64_t channels = feature::feature_channels(m, layers[i], opt.seed);
    const auto units = feature::random_units(channels, opt.units, opt.seed + i);
    std::vector<feature::Feature> features;
    for (int64_t u : units) features.push_back(feature::parse_feature(layers[i] + ":" + std::to_string(u)));
    const size_t total = units.size() * static_cast<size_t>(opt.mtis);
    const size_t already = std::count_if(finished.begin(), finished.end(),
                                         [&](const auto& k) { return std::get<0>(k) == layers[i]; });
    if (already == total) continue;
    spdlog::info("inversion check: {} units of {} through {}, {} MTIs each ({} pairs done before)", units.size(),
                 layers[i], through[i], opt.mtis, already);
    if (!mtis.count(layers[i])) {
      mtis[layers[i]] = layer_mtis(m, ds, opt, features, units, through[i]);
      write_mtis(mtis_path, layers, through, mtis);
    }
    const auto& unit_mtis = mtis.at(layers[i]);

    // S of every (unit, MTI): one attribution per rank, image u for unit u.
    attribution::AttributorOptions ao;
    ao.features = features;
    ao.layers = {through[i]};
    ao.keep_s = true;
    ao.footprint.seed = opt.seed;
    attribution::Attributor attributor(m, ao);
    std::vector<std::vector<viz::Attribution>> attrs(static_cast<size_t>(opt.mtis));  // [rank][unit]
    for (size_t r = 0; r < attrs.size(); ++r) {
      std::vector<torch::Tensor> xs;
      for (const auto& u : unit_mtis) xs.push_back(data::preprocess(ds.load(u.picks[r].index), in));
      attrs[r] = viz::attributions_per_feature(attributor, torch::stack(xs));
    }

    // Pairs unit-major, MTI rank within; fixed batches, so that a resumed check optimises what an uninterrupted
    // one would.
    std::vector<std::pair<size_t, size_t>> pairs;  // (unit index, rank)
    for (size_t u = 0; u < units.size(); ++u) {
      for (size_t r = 0; r < static_cast<size_t>(opt.mtis); ++r) pairs.emplace_back(u, r);
    }
    auto is_done = [&](const std::pair<size_t, size_t>& p) {
      const auto image = static_cast<int64_t>(unit_mtis[p.first].picks[p.second].index);
      return finished.count({layers[i], units[p.first], image}) > 0;
    };
    std::optional<Progress> progress;
    if (opt.progress) progress.emplace("inversions " + layers[i], total - already, "pair");
    for (size_t first = 0; first < pairs.size(); first += static_cast<size_t>(pairs_per_batch)) {
      const std::vector<std::pair<size_t, size_t>> chunk(
          pairs.begin() + first, pairs.begin() + std::min(pairs.size(), first + static_cast<size_t>(pairs_per_batch)));
      const size_t todo = std::count_if(chunk.begin(), chunk.end(), [&](const auto& p) { return !is_done(p); });
      if (todo == 0) continue;
      if (opt.max_batches > 0 && batches == opt.max_batches) return result;
      viz::ImageOptions io{static_cast<int64_t>(2 * chunk.size()), in.channels, canvas};
      io.device = m.device();
      std::vector<uint64_t> seeds;
      std::vector<torch::Tensor> seed_images;
      std::vector<viz::Objective> objectives;
      std::vector<feature::Feature> monitor;
      for (size_t k = 0; k < chunk.size(); ++k) {
        const auto [u, r] = chunk[k];
        const auto& attr = attrs[r][u];
        const auto start = inversion_start_seed(opt.seed, i, units[u], r);
        auto image = noise ? torch::Tensor() : data::preprocess(ds.load(unit_mtis[u].picks[r].index), canvas_spec);
        for (int side = 0; side < 2; ++side) {
          seeds.push_back(start);
          if (!noise) seed_images.push_back(image);
          const auto target = side == 0 ? viz::Target::SPos : viz::Target::SNeg;
          objectives.push_back(viz::target_objective(m, features[u], target, &attr, opt.cos_power,
                                                     static_cast<int64_t>(2 * k + side)));
          monitor.push_back(features[u]);
        }
      }
      if (noise) {
        io.item_seeds = seeds;
      } else {
        io.seed_images = torch::stack(seed_images);
      }
      auto param = viz::make_parameterization(opt.param, io, spectrum);
      auto ro = opt.optimize;
      ro.seed = inversion_draws_seed(opt.seed, i);
      ro.monitor = monitor;
      ro.progress = false;
      auto res = viz::optimize(m, *param, objectives, ro);

      std::string rows;
      for (size_t k = 0; k < chunk.size(); ++k) {
        if (is_done(chunk[k])) continue;
        const auto [u, r] = chunk[k];
        const double sd = unit_mtis[u].sd;
        const bool scaled = std::isfinite(sd) && sd > 0;
        for (int side = 0; side < 2; ++side) {
          for (const auto& rec : res.curve) {
            const double fv = rec.fv[static_cast<int64_t>(2 * k + side)].item<double>();
            rows += fmt::format("{},{},{},{},{},{},{:.7g},{}\n", layers[i], through[i], units[u],
                                unit_mtis[u].picks[r].index, kSigns[side], rec.step, fv,
                                scaled ? fmt::format("{:.7g}", fv / sd) : "");
          }
        }
      }
      curves << rows << std::flush;
      if (!curves) throw Error("cannot write " + curves_path);
      result.pairs_rendered += todo;
      ++batches;
      if (progress) progress->advance(todo);
    }
    if (progress) progress->finish();
  }
  curves.close();

  auto all = read_curves(curves_path, steps);
  size_t expected = 0;
  for (const auto& [layer, units] : mtis) {
    for (const auto& u : units) expected += u.picks.size();
  }
  if (all.pairs.size() != expected || all.valid_bytes != fs::file_size(curves_path)) {
    throw Error(fmt::format("{} holds {} finished pairs, {} expected", curves_path, all.pairs.size(), expected));
  }
  result.layers = summarise(all.pairs, layers, through, steps, dir);
  result.complete = true;
  return result;
}

}  // namespace tension::analysis
