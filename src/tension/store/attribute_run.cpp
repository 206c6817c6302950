#include "tension/store/attribute_run.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "tension/attribution/attributor.h"
#include "tension/core/comm.h"
#include "tension/core/interrupt.h"
#include "tension/core/stopwatch.h"
#include "tension/data/dataset.h"
#include "tension/model/model.h"
#include "tension/store/run_store.h"

namespace tension::store {

namespace {

namespace fs = std::filesystem;

// Rank r of a job writes its own store in RUN/ranks/r: SQLite is never written by two processes at once, and the
// ranks send no rows over MPI (docs/design.md, "Passes over many machines").
std::string rank_dir(const RunManifest& run, int rank) { return run.path("ranks/" + std::to_string(rank)); }

// Joins into the run's store the rank stores a job left in RUN/ranks (all of them, whatever that job's number of
// ranks), then removes them. Each was written one batch per transaction, so what it holds is whole; one still being
// written (its lock is held) or of another configuration is refused.
size_t fold_rank_stores(RunStore& st, const RunManifest& run, const nlohmann::json& config) {
  const fs::path ranks = run.path("ranks");
  if (!fs::is_directory(ranks)) return 0;
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(ranks)) dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end());
  size_t folded = 0;
  for (const auto& dir : dirs) {
    if (fs::exists(dir / "store.sqlite")) {
      RunStore::open_for_writing(dir.string(), config);  // checks, and closes again
      st.copy_rows_from(dir.string());
      ++folded;
    }
    fs::remove_all(dir);
  }
  fs::remove(ranks);
  return folded;
}

// The pass shared by the ranks of an MPI job. Rank 0 folds what an earlier job left, lists the images still to do
// and sends the list to every rank; rank r attributes the list's batches r, r + P, ... into its own store; at the
// end rank 0 folds the rank stores into the run's. A job killed at any point leaves whole batches behind, which the
// next job, with any number of ranks, folds in first.
PassReport attribute_job(attribution::Attributor& attributor, const data::Dataset& ds, RunStore* st,
                         const PassOptions& opt, const RunManifest& run, const nlohmann::json& config) {
  PassReport rep;
  std::vector<size_t> todo;
  if (comm::leader()) todo = images_to_attribute(ds, *st, opt, rep);
  todo = comm::broadcast(std::move(todo));
  std::vector<size_t> mine;
  for (size_t k : comm::share_of(todo.size(), opt.batch_size).items) mine.push_back(todo[k]);
  {
    auto own = RunStore::open_for_writing(rank_dir(run, comm::rank()), config);
    Progress bar("attribute", todo.size(), "img", Progress::Scope::job);
    Stopwatch busy;
    attribute_images(attributor, ds, *own, mine, opt, bar, rep);
    const double own_seconds = busy.seconds();
    bar.finish();
    rep.seconds = bar.elapsed_seconds();
    rep.rank_seconds = comm::gather(own_seconds);
  }
  comm::barrier();  // every rank store is written and closed
  auto total = [](size_t v) { return static_cast<size_t>(comm::sum(static_cast<int64_t>(v))); };
  rep.processed = total(rep.processed);
  rep.unreadable = total(rep.unreadable);
  rep.non_finite = total(rep.non_finite);
  rep.rows_written = total(rep.rows_written);
  // The ranks write in parallel: the write path's rate is the sum of theirs (rows_written / write_seconds = the
  // mean rank's rate, times the ranks).
  rep.write_seconds = comm::sum(static_cast<int64_t>(rep.write_seconds * 1e6)) * 1e-6 / comm::size();
  if (comm::leader()) fold_rank_stores(*st, run, config);
  return rep;
}

}  // namespace

void attribute_run(const AttributeOptions& a, RunManifest& run) {
  auto m = model::load_model(a.model);
  auto ds = data::open_dataset(a.data);

  // The store's configuration: a resumed pass must match it.
  nlohmann::json config = {
      {"model", a.model},
      {"model_weights", m->weights_id()},
      {"data", {{"spec", a.data}, {"listing_sha256", data::listing_hash(*ds)}, {"limit", a.pass.limit}}},
      {"features", a.features},
      {"cos_power", a.cos_power},
      {"layers", a.layers},
      {"keep_channels", a.pass.keep_channels},
      {"keep_s", a.pass.keep_s},
      {"seed", a.model.seed}};
  // A shard is one part of a run (tension merge joins the parts): its config says which, and of which batches.
  if (a.pass.batch_size == 0) throw Error("batch size must be positive");
  if (a.pass.shard.count > 1) {
    config["shard"] = a.pass.shard;
    config["shard"]["batch_size"] = a.pass.batch_size;
  }
  const bool job = comm::size() > 1;
  if (job && a.pass.shard.count > 1) {
    throw Error("--shard is for machines without MPI: under mpirun or srun the ranks share the pass already");
  }
  // In a job, rank 0 alone opens the run's store. It folds in what an earlier, killed job left, whether this pass
  // runs on one process or on many.
  std::unique_ptr<RunStore> st;
  if (comm::leader()) {
    st = RunStore::open_for_writing(run.dir(), config);
    if (const size_t n = fold_rank_stores(*st, run, config)) spdlog::info("resuming: {} rank stores folded in", n);
  }

  attribution::AttributorOptions ao;
  for (const auto& f : a.features) ao.features.push_back(feature::parse_feature(f, a.cos_power));
  ao.layers = a.layers;
  ao.keep_s = a.pass.keep_s;
  ao.footprint.seed = a.model.seed;
  ao.verify = a.verify;
  ao.plan_cache = a.plan_cache;
  // A resumed pass goes on with the plan its first part used. In a job, rank 0 plans and the others take its plan.
  if (st) {
    if (auto stored = st->meta("plan"); !stored.is_null()) ao.plan = stored.get<attribution::AttributionPlan>();
  }
  std::unique_ptr<attribution::Attributor> planned;
  if (comm::leader()) planned = std::make_unique<attribution::Attributor>(*m, ao);
  if (job) {
    const auto plan =
        nlohmann::json::parse(comm::broadcast(comm::leader() ? nlohmann::json(planned->plan()).dump() : ""));
    if (!comm::leader()) {
      ao.plan = plan.get<attribution::AttributionPlan>();
      planned = std::make_unique<attribution::Attributor>(*m, ao);
    }
  }
  auto& attributor = *planned;
  if (st) st->set_meta("plan", attributor.plan());

  nlohmann::json layout = nlohmann::json::array();
  for (size_t k = 0; k < a.features.size(); ++k) {
    nlohmann::json per_layer = nlohmann::json::array();
    for (size_t l = 0; l < a.layers.size(); ++l) {
      per_layer.push_back({{"layer", a.layers[l]}, {"footprint", attributor.footprint(k, l)}});
    }
    layout.push_back({{"feature", a.features[k]}, {"layers", per_layer}});
  }
  if (st) st->set_meta("layout", layout);

  run["params"] = a;
  run["layout"] = layout;
  static const char* const kSources[] = {"planned", "cache", "store"};
  run["plan"] = {{"source", kSources[static_cast<int>(attributor.plan_source())]},
                 {"verified", attributor.plan().verified}, {"input_crop", attributor.plan().crop},
                 {"layer_windows_margin", attributor.plan().suffix_margin}};
  run.write("running");
  PassReport rep;
  try {
    rep = job ? attribute_job(attributor, *ds, st.get(), a.pass, run, config)
              : run_attribution_pass(attributor, *ds, *st, a.pass);
  } catch (const Interrupted& e) {
    run.write("interrupted", e.what());
    throw;
  }
  run["results"] = {{"already_stored", rep.already_stored},
                    {"processed", rep.processed},
                    {"unreadable", rep.unreadable},
                    {"non_finite", rep.non_finite},
                    {"images_per_second", rep.seconds > 0 ? rep.processed / rep.seconds : 0.0},
                    {"ranks", comm::size()},
                    {"rank_seconds", rep.rank_seconds},
                    {"write_rows_per_second",
                     rep.write_seconds > 0 ? rep.rows_written / rep.write_seconds : 0.0},
                    {"rows", st ? st->count_attributions() : 0}};
  run.add_timing("pass", rep.seconds);
  run.add_output("store.sqlite", "per image: path, label; per image, feature and layer: fv, E, E+, E-, norms, "
                                 "phi maps (and channel vectors / S when kept)");
  run.write();
  spdlog::info("{} images attributed ({} already stored, {} unreadable) into {}", rep.processed,
               rep.already_stored, rep.unreadable, run.dir());
}

}  // namespace tension::store
