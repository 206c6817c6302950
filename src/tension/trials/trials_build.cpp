#include "tension/trials/trials_build.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <numeric>
#include <queue>
#include <tuple>

#include "tension/analysis/feature_field.h"
#include "tension/analysis/kmeans_outputs.h"
#include "tension/core/error.h"
#include "tension/core/moments.h"
#include "tension/core/npy.h"
#include "tension/core/percentile.h"
#include "tension/core/progress.h"
#include "tension/core/splitmix.h"
#include "tension/core/stopwatch.h"
#include "tension/data/loader.h"
#include "tension/data/preprocess.h"
#include "tension/feature/feature.h"
#include "tension/model/tap.h"
#include "tension/render/image_grid.h"
#include "tension/trials/bundle.h"
#include "tension/trials/trial_figure.h"
#include "tension/trials/trial_select.h"

namespace tension::trials {

namespace fs = std::filesystem;

namespace {

// Candidates kept per feature for the MEIs and the MII: enough to step past images that an earlier trial of the
// layer shows at another position.
constexpr size_t kListed = 64;
// Crops kept per feature in the distractors' window, in seeded random order.
constexpr size_t kDistractorPool = 512;

// Every readable image of the dataset through the model to `tap`: fn(rows, act) per batch, act [B, C, H, W].
template <class Fn>
std::vector<data::Failure> for_each_batch(model::Model& m, const data::Dataset& ds, const model::Tap& tap,
                                          const TrialsBuildOptions& opt, size_t images, const std::string& label,
                                          Fn fn) {
  data::LoaderOptions lo;
  lo.batch_size = opt.batch_size;
  lo.indices.resize(images);
  std::iota(lo.indices.begin(), lo.indices.end(), size_t{0});
  data::BatchLoader loader(ds, m.input_spec(), lo);
  std::vector<data::Failure> failures;
  Progress progress(label, images, "img");
  data::Batch batch;
  while (loader.next(batch)) {
    progress.advance(batch.indices.size() + batch.failures.size());
    failures.insert(failures.end(), batch.failures.begin(), batch.failures.end());
    if (batch.indices.empty()) continue;
    auto act = m.run(batch.x.to(m.device()), {tap}).taps[0].to(torch::kCPU, torch::kFloat);
    auto rows = torch::tensor(std::vector<int64_t>(batch.indices.begin(), batch.indices.end()));
    fn(rows, act);
  }
  progress.finish();
  return failures;
}

// The features' activations [B, H*W, F] and the hidden vectors' L1 norms [B, H*W] of every crop of a batch.
std::pair<torch::Tensor, torch::Tensor> crop_readouts(const torch::Tensor& act, const torch::Tensor& directions,
                                                      int cos_power) {
  auto h = act.flatten(2).transpose(1, 2);  // [B, H*W, C]
  return {feature::dot_cos(h, directions, cos_power), h.abs().sum(-1)};
}

struct LayerPass {
  torch::Tensor top, top_at, bottom, bottom_at;  // [N, F]: each image's highest and lowest crop and where
  torch::Tensor l1;                              // [N, H*W]
  torch::Tensor seen;                            // [N] readable
  std::vector<int64_t> readable;                 // the indices where seen is true, once per layer
  std::vector<MomentsAccumulator> moments;       // per feature, over every crop
};

std::vector<Candidate> ranked(const LayerPass& p, const torch::Tensor& value, const torch::Tensor& at, int64_t f,
                              bool highest, int64_t width) {
  std::vector<int64_t> images = p.readable;
  auto v = value.select(1, f).contiguous();
  auto va = v.accessor<float, 1>();
  auto k = std::min(images.size(), kListed);
  std::partial_sort(images.begin(), images.begin() + k, images.end(), [&](int64_t a, int64_t b) {
    return highest ? std::make_tuple(-va[a], a) < std::make_tuple(-va[b], b)
                   : std::make_tuple(va[a], a) < std::make_tuple(va[b], b);
  });
  images.resize(k);
  auto pos = at.select(1, f).contiguous();
  auto pa = pos.accessor<int64_t, 1>();
  auto l1 = p.l1.accessor<float, 2>();
  std::vector<Candidate> out;
  for (int64_t i : images) out.push_back({i, pa[i] / width, pa[i] % width, va[i], l1[i][pa[i]]});
  return out;
}

}  // namespace

void trials_build(const TrialsBuildOptions& opt, RunManifest& run) {
  if (opt.layers.empty()) throw Error("no layer: give --layers, e.g. an early, a middle and a late layer");
  if (opt.n < 1) throw Error("-n must be at least 1 feature per layer");
  if (opt.crop_side < 8) throw Error("--crop-side must be at least 8 pixels");
  auto m = model::load_model(opt.model);
  auto ds = data::open_dataset(opt.data);
  std::vector<std::string> names;
  for (const auto& l : m->layers()) names.push_back(l.name);
  std::vector<model::Tap> taps;
  for (const auto& l : opt.layers) {
    model::check_layer_exists(m->name(), l, names);
    taps.push_back(feature::feature_tap(*m, l));
  }
  const size_t images = opt.limit ? std::min(opt.limit, ds->size()) : ds->size();
  if (opt.kmeans_k < opt.n || opt.kmeans_k > static_cast<int64_t>(images)) {
    throw Error(fmt::format("the features are {} of k = {} k-means centroids, which needs n <= k <= the {} images "
                            "(-n, --kmeans-k)",
                            opt.n, opt.kmeans_k, images));
  }
  const uint64_t seed = opt.model.seed;
  run["params"] = opt;
  run["model"] = {{"weights", m->weights_id()}};
  run["dataset"] = {{"spec", opt.data}, {"sha256", data::listing_hash(*ds)}, {"images", images}};
  run.write("running");

  Bundle bundle;
  bundle.dir = run.dir();
  bundle.model = opt.model.spec;
  bundle.data = opt.data;
  bundle.seed = seed;
  bundle.cos_power = opt.cos_power;
  const auto& in = m->input_spec();
  std::vector<std::vector<SelectedTrial>> selected;
  std::vector<model::Box> fields;
  nlohmann::json results = nlohmann::json::object();
  Stopwatch phase;
  for (size_t li = 0; li < opt.layers.size(); ++li) {
    const std::string& layer = opt.layers[li];
    spdlog::info("trials: layer {} ({}/{})", layer, li + 1, opt.layers.size());
    phase.restart();
    const std::string km_rel = "kmeans/" + layer;
    if (!fs::exists(run.path(km_rel + "/centroids.npy"))) {
      analysis::KMeansRunOptions ko;
      ko.model = opt.model;
      ko.data = opt.data;
      ko.layer = layer;
      ko.kmeans.k = opt.kmeans_k;
      ko.kmeans.iterations = opt.kmeans_iterations;
      ko.sample.limit = images;
      ko.sample.batch_size = opt.batch_size;
      auto km_run = run.nested(km_rel, "kmeans");
      analysis::kmeans_run(ko, km_run);
    }
    auto centroids = read_npy(run.path(km_rel + "/centroids.npy")).to(torch::kFloat);
    const auto rows = feature::random_units(centroids.size(0), opt.n, seed + li);
    auto directions = centroids.index_select(0, torch::tensor(rows));  // [F, C]
    const int64_t F = directions.size(0);

    // Pass 1: each image's extreme crops, the activations' moments, every crop's L1 norm.
    LayerPass p;
    p.moments.resize(F);
    int64_t height = 0, width = 0, channels = 0;
    auto failures = for_each_batch(*m, *ds, taps[li], opt, images, layer + " activations", [&](const torch::Tensor& idx, const torch::Tensor& act) {
      if (act.dim() != 4) throw Error("layer " + layer + " has no positions to cut crops around ([N, C, H, W])");
      if (!p.l1.defined()) {
        channels = act.size(1), height = act.size(2), width = act.size(3);
        const auto n = static_cast<int64_t>(images);
        p.top = torch::empty({n, F}), p.bottom = torch::empty({n, F});
        p.top_at = torch::zeros({n, F}, torch::kLong), p.bottom_at = torch::zeros({n, F}, torch::kLong);
        p.l1 = torch::zeros({n, height * width});
        p.seen = torch::zeros({n}, torch::kBool);
      }
      auto [a, l1] = crop_readouts(act, directions, opt.cos_power);
      auto hi = a.max(1), lo = a.min(1);
      p.top.index_put_({idx}, std::get<0>(hi));
      p.top_at.index_put_({idx}, std::get<1>(hi));
      p.bottom.index_put_({idx}, std::get<0>(lo));
      p.bottom_at.index_put_({idx}, std::get<1>(lo));
      p.l1.index_put_({idx}, l1);
      p.seen.index_put_({idx}, true);
      // A batch's moments in float (deviations from its own mean lose nothing that matters), merged in double.
      auto af = a.flatten(0, 1);  // [B*H*W, F]
      auto mean = af.mean(0), m2 = (af - mean).pow(2).sum(0);
      auto ma = mean.accessor<float, 1>(), m2a = m2.accessor<float, 1>();
      for (int64_t f = 0; f < F; ++f) p.moments[f].add(af.size(0), ma[f], m2a[f]);
    });
    if (!p.l1.defined()) throw Error("no readable image in " + opt.data);
    for (const auto& f : failures) spdlog::warn("skipped {}: {}", f.id, f.reason);
    auto l1_seen = p.l1.index({p.seen}).flatten().contiguous();
    const double p90 = percentile(std::vector<float>(l1_seen.data_ptr<float>(),
                                                     l1_seen.data_ptr<float>() + l1_seen.numel()), 90.0);
    auto readable = p.seen.nonzero().flatten().contiguous();
    p.readable.assign(readable.data_ptr<int64_t>(), readable.data_ptr<int64_t>() + readable.numel());
    std::vector<Moments> mom;
    for (const auto& acc : p.moments) mom.push_back(acc.moments());

    // Pass 2: the crops in each feature's distractor window, a seeded random sample of them.
    using Keyed = std::pair<uint64_t, Candidate>;
    auto by_key = [](const Keyed& a, const Keyed& b) { return a.first < b.first; };
    std::vector<std::priority_queue<Keyed, std::vector<Keyed>, decltype(by_key)>> pools(F, decltype(pools)::value_type(by_key));
    auto lo_t = torch::empty({F}), hi_t = torch::empty({F});
    for (int64_t f = 0; f < F; ++f) {
      lo_t[f] = mom[f].mean - 2 * mom[f].sd;
      hi_t[f] = mom[f].mean + 2 * mom[f].sd;
    }
    const uint64_t layer_seed = splitmix64_hash(seed ^ splitmix64_hash(li + 1));
    for_each_batch(*m, *ds, taps[li], opt, images, layer + " distractors", [&](const torch::Tensor& idx, const torch::Tensor& act) {
      auto [a, l1] = crop_readouts(act, directions, opt.cos_power);
      auto ok = (a >= lo_t) & (a <= hi_t) & (l1 >= p90).unsqueeze(-1);  // [B, H*W, F]
      auto where = ok.nonzero();                                         // [K, 3]
      auto w = where.accessor<int64_t, 2>();
      auto ia = idx.accessor<int64_t, 1>();
      auto aa = a.accessor<float, 3>();
      auto la = l1.accessor<float, 2>();
      for (int64_t k = 0; k < where.size(0); ++k) {
        const int64_t b = w[k][0], pos = w[k][1], f = w[k][2], image = ia[b];
        const uint64_t key = splitmix64_hash(
            layer_seed ^ splitmix64_hash((static_cast<uint64_t>(image) * height * width + pos) * F + f));
        auto& pool = pools[f];
        if (pool.size() < kDistractorPool || key < pool.top().first) {
          pool.push({key, {image, pos / width, pos % width, aa[b][pos][f], la[b][pos]}});
          if (pool.size() > kDistractorPool) pool.pop();
        }
      }
    });

    std::vector<FeatureCandidates> cands(F);
    for (int64_t f = 0; f < F; ++f) {
      auto& c = cands[f];
      c.feature = rows[f];
      c.mean = mom[f].mean;
      c.sd = mom[f].sd;
      c.top = ranked(p, p.top, p.top_at, f, true, width);
      c.bottom = ranked(p, p.bottom, p.bottom_at, f, false, width);
      std::vector<Keyed> keyed;
      for (auto& pool = pools[f]; !pool.empty(); pool.pop()) keyed.push_back(pool.top());
      std::sort(keyed.begin(), keyed.end(), by_key);
      for (const auto& k : keyed) c.distractors.push_back(k.second);
    }
    selected.push_back(select_trials(layer, cands));
    for (size_t t = 0; t < selected.back().size(); ++t) {
      bundle.trials.push_back({});
      auto& tr = bundle.trials.back();
      tr.layer = layer;
      tr.feature = cands[t].feature;
      tr.mean = cands[t].mean;
      tr.sd = cands[t].sd;
    }
    bundle.layers.push_back({layer, taps[li].str(), channels, height, width, p90, km_rel + "/centroids.npy"});
    fields.push_back(analysis::feature_field(*m, [&] {
      feature::Feature f;
      f.spec = layer + ":@centroid" + std::to_string(rows[0]);
      f.layer = layer;
      f.direction = directions[0];
      f.cos_power = opt.cos_power;
      return f;
    }(), opt.field));
    nlohmann::json fail_json = nlohmann::json::array();
    for (const auto& f : failures) fail_json.push_back({{"index", f.index}, {"id", f.id}, {"reason", f.reason}});
    results[layer] = {{"features", rows}, {"l1_p90", p90}, {"field", fields.back()}, {"skipped", fail_json},
                      {"shape", {channels, height, width}}};
    run.add_timing(layer, phase.seconds());
  }

  // The crops: one id per (layer, image, position), numbered in a seeded random order so that names say nothing
  // of a crop's role or rank.
  std::map<std::tuple<std::string, int64_t, int64_t, int64_t>, std::string> ids;
  std::vector<std::tuple<size_t, Candidate>> crops;  // layer index, crop
  for (size_t li = 0; li < selected.size(); ++li) {
    for (const auto& t : selected[li]) {
      std::vector<const Candidate*> all = {&t.mei, &t.mii};
      for (const auto& c : t.examples) all.push_back(&c);
      for (const auto& c : t.distractors) all.push_back(&c);
      for (const auto* c : all) {
        if (ids.emplace(std::make_tuple(opt.layers[li], c->image, c->row, c->col), "").second) {
          crops.emplace_back(li, *c);
        }
      }
    }
  }
  std::vector<size_t> order(crops.size());
  std::iota(order.begin(), order.end(), size_t{0});
  uint64_t state = splitmix64_hash(seed);
  shuffle(order, state);
  fs::create_directories(run.path("crops"));
  Progress progress("crop pictures", crops.size(), "crop");
  for (size_t k = 0; k < crops.size(); ++k) {
    const auto& [li, c] = crops[k];
    const auto& L = bundle.layers[li];
    const std::string id = fmt::format("c{:05d}", order[k]);
    ids[std::make_tuple(L.name, c.image, c.row, c.col)] = id;
    // The layer's field (measured at the centre unit) moved by the position's offset in input pixels.
    const auto& box = fields[li];
    const int64_t dy = (c.row - L.height / 2) * in.height / L.height, dx = (c.col - L.width / 2) * in.width / L.width;
    Crop crop{id, L.name, c.image, ds->id(c.image), c.row, c.col,
              box.top + dy, box.left + dx, box.bottom + dy, box.right + dx, c.l1};
    auto canvas = data::to_canvas(ds->load(c.image), in.channels, in.height);
    // Outside the image is mid-grey.
    const int64_t pad = std::max(box.height(), box.width());
    auto padded = torch::constant_pad_nd(canvas, {pad, pad, pad, pad}, 0.5);
    auto pic = analysis::crop_resized(padded, {crop.top + pad, crop.left + pad, crop.bottom + pad, crop.right + pad},
                                      opt.crop_side);
    render::write_png(bundle.crop_path(id), pic);
    bundle.crops.push_back(crop);
    progress.advance();
  }
  progress.finish();

  // The trials: the 9 choices in a seeded random order.
  size_t t_index = 0;
  for (size_t li = 0; li < selected.size(); ++li) {
    for (const auto& s : selected[li]) {
      auto& tr = bundle.trials[t_index];
      tr.id = static_cast<int64_t>(t_index++);
      auto as_crop = [&](const Candidate& c) {
        return TrialCrop{ids.at(std::make_tuple(opt.layers[li], c.image, c.row, c.col)), c.activation};
      };
      for (const auto& c : s.examples) tr.examples.push_back(as_crop(c));
      std::vector<Candidate> choices = {s.mei, s.mii};
      choices.insert(choices.end(), s.distractors.begin(), s.distractors.end());
      std::vector<size_t> perm(choices.size());
      std::iota(perm.begin(), perm.end(), size_t{0});
      shuffle(perm, state);
      for (size_t i = 0; i < perm.size(); ++i) {
        tr.choices.push_back(as_crop(choices[perm[i]]));
        if (perm[i] == 0) tr.mei = static_cast<int64_t>(i);
        if (perm[i] == 1) tr.mii = static_cast<int64_t>(i);
      }
    }
  }
  std::sort(bundle.crops.begin(), bundle.crops.end(), [](const Crop& a, const Crop& b) { return a.id < b.id; });
  write_bundle(bundle, run.dir());
  run.add_output("trials.json", fmt::format("{} trials of {} layers: examples, choices, the MEI and MII, every "
                                            "crop's activation, image and position",
                                            bundle.trials.size(), bundle.layers.size()));
  run.add_output("crops/", fmt::format("{} crop pictures ({} px)", bundle.crops.size(), opt.crop_side));
  for (const auto& L : bundle.layers) {
    const std::string fig = "fig9_" + L.name + ".png";
    render::write_png(run.path(fig), trial_picture(bundle, *bundle.layer_trials(L.name).front()));
    run.add_output(fig, "Fig 9: the first trial of " + L.name + " (target MEI outlined green, target MII orange)");
  }
  run["results"] = results;
  run.write();
  spdlog::info("trials: {} trials, {} crops in {}", bundle.trials.size(), bundle.crops.size(), run.dir());
}

}  // namespace tension::trials
