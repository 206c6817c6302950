#include "tension/atlas/icons.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include <nlohmann/json.hpp>

#include "tension/core/comm.h"
#include "tension/core/error.h"
#include "tension/core/npy.h"
#include "tension/core/progress.h"
#include "tension/core/sha256.h"
#include "tension/viz/objectives.h"
#include "tension/viz/opacity.h"
#include "tension/viz/panels.h"
#include "tension/viz/parameterization.h"
#include "tension/viz/optimize.h"
#include "tension/viz/spectrum.h"

namespace tension::atlas {

namespace fs = std::filesystem;

torch::Tensor icon_target(const torch::Tensor& s_points) {
  if (s_points.dim() != 4 || s_points.size(0) == 0) throw Error("an icon needs the S of one or more images");
  auto mean = s_points.to(torch::kDouble).mean(0);
  double norm = mean.norm().item<double>();
  if (!(norm > 0)) throw Error("the images of an icon cell have no attribution (S is zero)");
  return (mean / norm).abs().to(torch::kFloat);
}

namespace {

// What makes a batch's icons: its targets, the recipe, the seed and the model; a cached batch is used only when
// this matches.
std::string batch_fingerprint(const std::vector<torch::Tensor>& targets, const IconOptions& opt, uint64_t seed,
                              const std::string& model_id, const feature::Feature& f) {
  Sha256 h;
  h.update(fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}|{}", model_id, f.spec, opt.steps, opt.lr, opt.draws,
                       opt.cos_power, opt.canvas, opt.param, opt.opacity_clip, seed));
  if (opt.spectrum.defined()) {
    auto sp = opt.spectrum.contiguous().to(torch::kFloat).cpu();
    h.update(sp.data_ptr(), static_cast<size_t>(sp.numel()) * sizeof(float));
  }
  for (const auto& t : targets) {
    auto c = t.contiguous().to(torch::kFloat).cpu();
    h.update(c.data_ptr(), static_cast<size_t>(c.numel()) * sizeof(float));
  }
  return h.hex();
}

std::optional<std::vector<Icon>> load_batch(const std::string& stem, const std::string& fingerprint, size_t count) {
  std::ifstream in(stem + ".json");
  if (!in) return std::nullopt;
  try {
    auto j = nlohmann::json::parse(in);
    if (j.value("fingerprint", "") != fingerprint) return std::nullopt;
    auto fv = j.at("fv").get<std::vector<double>>();
    auto pixels = read_npy(stem + ".npy");  // [K, C + 1, S, S]: image, then alpha
    if (fv.size() != count || pixels.dim() != 4 || pixels.size(0) != static_cast<int64_t>(count)) return std::nullopt;
    std::vector<Icon> out;
    for (size_t k = 0; k < count; ++k) {
      auto p = pixels[static_cast<int64_t>(k)];
      out.push_back({p.slice(0, 0, p.size(0) - 1), p.slice(0, p.size(0) - 1), fv[k]});
    }
    return out;
  } catch (const std::exception& e) {
    spdlog::warn("re-rendering icon batch {}: its cache is unreadable ({})", stem, e.what());
    return std::nullopt;
  }
}

// The pixels first, the JSON (which names the fingerprint) last and by rename: a batch killed mid-write is
// simply not cached.
void save_batch(const std::string& stem, const std::string& fingerprint, const std::vector<Icon>& icons) {
  std::vector<torch::Tensor> pixels;
  std::vector<double> fv;
  for (const auto& i : icons) {
    pixels.push_back(torch::cat({i.image, i.alpha}, 0));
    fv.push_back(i.fv);
  }
  write_npy(stem + ".npy", torch::stack(pixels).to(torch::kFloat));
  {
    std::ofstream out(stem + ".json.tmp");
    out << nlohmann::json{{"fingerprint", fingerprint}, {"fv", fv}}.dump();
    if (!out) throw Error("cannot write " + stem + ".json.tmp");
  }
  fs::rename(stem + ".json.tmp", stem + ".json");
}

}  // namespace

std::vector<Icon> render_icons(model::Model& m, const feature::Feature& f, const model::Tap& layer,
                               const model::Box& footprint, const std::vector<torch::Tensor>& targets,
                               const IconOptions& opt, const IconCache& cache, size_t* rendered) {
  if (opt.batch < 1 || opt.steps < 1 || opt.draws < 1) throw Error("icon batch, steps and draws must be >= 1");
  const int64_t canvas = opt.canvas > 0 ? opt.canvas : viz::default_canvas(m.input_spec());
  const int64_t channels = m.input_spec().channels;
  if (!cache.dir.empty()) fs::create_directories(cache.dir);
  const auto batch = static_cast<size_t>(opt.batch);
  const size_t batches = (targets.size() + batch - 1) / batch;
  // The icons of batch b, from the cache when there, else rendered (and cached).
  size_t made = 0;
  auto icons_of = [&](size_t b) {
    const size_t first = b * batch, count = std::min(batch, targets.size() - first);
    std::vector<torch::Tensor> ts(targets.begin() + first, targets.begin() + first + count);
    const uint64_t seed = opt.seed + b;
    const std::string fp = batch_fingerprint(ts, opt, seed, m.weights_id(), f);
    const std::string stem = cache.dir.empty() ? "" : cache.dir + "/batch-" + std::to_string(b);
    std::optional<std::vector<Icon>> icons;
    if (!stem.empty()) icons = load_batch(stem, fp, count);
    if (icons) return *icons;
    viz::ImageOptions io{static_cast<int64_t>(count), channels, canvas};
    io.seed = seed;
    io.device = m.device();
    auto param = viz::make_parameterization(
        opt.param, io, opt.spectrum.defined() ? viz::fit_spectrum(opt.spectrum, canvas) : torch::Tensor());
    std::vector<viz::Objective> objectives;
    for (size_t k = 0; k < count; ++k) {
      objectives.push_back(viz::dot_cos_objective(layer, ts[k], footprint, opt.cos_power, static_cast<int64_t>(k)));
    }
    viz::OptimizeOptions ro;
    ro.steps = opt.steps;
    ro.lr = opt.lr;
    ro.seed = seed;
    ro.progress = false;
    ro.transforms.count = opt.draws;
    auto res = viz::optimize(m, *param, objectives, ro);
    // The paper's blur of 2 pixels on a 512 canvas, at this canvas's scale.
    auto alpha = viz::opacity(res.gradients, {opt.opacity_clip, 2.0 * static_cast<double>(canvas) / 512.0});
    auto fv = viz::feature_values(m, res.images, std::vector<feature::Feature>(count, f));
    icons.emplace();
    for (size_t k = 0; k < count; ++k) {
      const auto i = static_cast<int64_t>(k);
      icons->push_back({res.images[i], alpha[i], fv[i].item<double>()});
    }
    if (!stem.empty()) save_batch(stem, fp, *icons);
    ++made;
    return *icons;
  };

  // In an MPI job each rank renders the batches b with comm::mine(b) into the cache; rank 0 then reads the others'
  // from there (the cache must be on a file system every rank sees, as the run folder is).
  const bool shared = comm::size() > 1 && !cache.dir.empty();
  std::vector<std::vector<Icon>> by_batch(batches);
  std::optional<Progress> progress;
  if (opt.progress) {
    progress.emplace("icons", targets.size(), "icon", shared ? Progress::Scope::job : Progress::Scope::process);
  }
  for (size_t b = 0; b < batches; ++b) {
    if (shared && !comm::mine(b)) continue;
    by_batch[b] = icons_of(b);
    if (progress) progress->advance(by_batch[b].size());
  }
  if (progress) progress->finish();
  if (shared) {
    comm::barrier();  // every rank's batches are in the cache
    std::string per_rank;
    for (size_t n : comm::gather(made)) per_rank += (per_rank.empty() ? "" : " ") + std::to_string(n);
    made = static_cast<size_t>(comm::sum(static_cast<int64_t>(made)));
    if (!comm::leader()) return {};
    spdlog::info("icon batches rendered by rank: {}", per_rank);
    for (size_t b = 0; b < batches; ++b) {
      if (by_batch[b].empty()) by_batch[b] = icons_of(b);  // another rank's, from the cache
    }
  }
  std::vector<Icon> out;
  for (auto& icons : by_batch) out.insert(out.end(), icons.begin(), icons.end());
  if (rendered) *rendered = made;
  spdlog::info("{} icon(s): {} batch(es) rendered, {} from the cache", targets.size(), made, batches - made);
  return out;
}

}  // namespace tension::atlas
