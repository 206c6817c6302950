// tension kmeans MODEL DATA --layer L -k 1000 [--pick 20]: k-means directions of a layer (paper App B, H),
// written as .npy matrices usable as features everywhere (LAYER:@FILE.npy#i).
#include <spdlog/spdlog.h>

#include "tension/analysis/kmeans.h"
#include "tension/cli/common.h"
#include "tension/core/manifest.h"
#include "tension/core/npy.h"
#include "tension/feature/feature.h"

namespace tension::cli {

void register_kmeans(CLI::App& app) {
  struct Args {
    ModelArgs model;
    std::string data, layer, out;
    analysis::KMeansOptions km;
    analysis::HiddenSampleOptions sample;
    int64_t pick = 0;
  };
  static Args a;
  auto* cmd = app.add_subcommand("kmeans", "spherical k-means directions of a layer's hidden vectors (one random "
                                           "position per image), optionally the paper's spread-out pick");
  add_model_options(cmd, a.model);
  cmd->add_option("data", a.data, "dataset")->required();
  cmd->add_option("--layer,-l", a.layer, "layer (read where features are read: pre-ReLU where offered)")->required();
  cmd->add_option("-k", a.km.k, "clusters")->capture_default_str();
  cmd->add_option("--iterations", a.km.iterations, "Lloyd iterations at most")->capture_default_str();
  cmd->add_option("--pick", a.pick, "two-stage pick: k-means with this many groups on the centroids, one random "
                                    "centroid per group (0: keep every centroid)")->capture_default_str();
  cmd->add_option("--limit", a.sample.limit, "only the first N images (0 = all)")->capture_default_str();
  cmd->add_option("--out,-o", a.out, "output folder")->required();
  cmd->callback([] {
    auto m = load_model(a.model);
    auto ds = data::open_dataset(a.data);
    a.km.seed = a.sample.seed = a.model.seed;
    RunManifest run(a.out, "kmeans", global().argv);
    run["params"] = {{"model", model_args_json(a.model)}, {"data", a.data}, {"layer", a.layer}, {"k", a.km.k},
                     {"iterations", a.km.iterations}, {"pick", a.pick}, {"limit", a.sample.limit},
                     {"seed", a.model.seed}};
    run["model"] = {{"weights", m->weights_id()}};
    run["dataset"] = {{"spec", a.data}, {"sha256", data::listing_hash(*ds)}};
    run.write("running");
    auto tap = feature::feature_tap(*m, a.layer);
    auto x = analysis::sample_hidden_vectors(*m, *ds, tap, a.sample);
    auto km = analysis::spherical_kmeans(x, a.km);
    write_npy(run.path("centroids.npy"), km.centroids);
    run.add_output("centroids.npy", "[k, C] unit centroids");
    auto directions = a.pick > 0 ? analysis::spread_directions(km.centroids, a.pick, a.km.seed) : km.centroids;
    write_npy(run.path("directions.npy"), directions);
    run.add_output("directions.npy", "[K, C] directions: features " + a.layer + ":@" + run.path("directions.npy") +
                                         "#i (add --cos-power 2 for the paper's dot*cos^2 readout)");
    run["results"] = {{"vectors", x.size(0)}, {"dims", x.size(1)}, {"iterations", km.iterations},
                      {"directions", directions.size(0)}, {"tap", tap.str()}};
    run.write();
    spdlog::info("{} directions of {} ({} vectors, {} iterations): features {}:@{}#0..{}", directions.size(0),
                 tap.str(), x.size(0), km.iterations, a.layer, run.path("directions.npy"), directions.size(0) - 1);
  });
}

}  // namespace tension::cli
