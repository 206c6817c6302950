#include "tension/analysis/kmeans_outputs.h"

#include <spdlog/spdlog.h>

#include "tension/core/comm.h"
#include "tension/core/npy.h"
#include "tension/core/stopwatch.h"
#include "tension/data/dataset.h"
#include "tension/feature/feature.h"
#include "tension/model/model.h"

namespace tension::analysis {

void kmeans_run(const KMeansRunOptions& a, RunManifest& run) {
  auto m = model::load_model(a.model);
  auto ds = data::open_dataset(a.data);
  auto km_opt = a.kmeans;
  auto sample = a.sample;
  km_opt.seed = sample.seed = a.model.seed;
  run["params"] = a;
  run["model"] = {{"weights", m->weights_id()}};
  run["dataset"] = {{"spec", a.data}, {"sha256", data::listing_hash(*ds)}};
  run.write("running");
  auto tap = feature::feature_tap(*m, a.layer);
  Stopwatch phase;
  auto x = sample_hidden_vectors(*m, *ds, tap, sample);
  run.add_timing("sample", phase.seconds());
  // In an MPI job the ranks share the sampling pass; the k-means stays on rank 0 (docs/benchmarks.md times the two),
  // and the others wait for its files, which the next step of a job (uniqueness's attribution) reads.
  if (!comm::leader()) {
    comm::barrier();
    return;
  }
  phase.restart();
  auto km = spherical_kmeans(x, km_opt);
  run.add_timing("kmeans", phase.seconds());
  write_npy(run.path("centroids.npy"), km.centroids);
  run.add_output("centroids.npy", "[k, C] unit centroids");
  auto directions = a.pick > 0 ? spread_directions(km.centroids, a.pick, km_opt.seed) : km.centroids;
  write_npy(run.path("directions.npy"), directions);
  run.add_output("directions.npy", "[K, C] directions: features " + a.layer + ":@" + run.path("directions.npy") +
                                       "#i (add --cos-power 2 for the paper's dot*cos^2 readout)");
  run["results"] = {{"vectors", x.size(0)}, {"dims", x.size(1)}, {"iterations", km.iterations},
                    {"directions", directions.size(0)}, {"tap", tap.str()}};
  run.write();
  spdlog::info("{} directions of {} ({} vectors, {} iterations): features {}:@{}#0..{}", directions.size(0),
               tap.str(), x.size(0), km.iterations, a.layer, run.path("directions.npy"), directions.size(0) - 1);
  comm::barrier();
}

}  // namespace tension::analysis
