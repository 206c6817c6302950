// tension kmeans MODEL DATA --layer L -k 1000 [--pick 20]: k-means directions of a layer (paper App B, H),
// written as .npy matrices usable as features everywhere (LAYER:@FILE.npy#i).
#include "tension/analysis/kmeans_outputs.h"
#include "tension/cli/common.h"
#include "tension/core/manifest.h"

namespace tension::cli {

void register_kmeans(CLI::App& app) {
  static analysis::KMeansRunOptions a;
  static std::string out;
  auto* cmd = app.add_subcommand("kmeans", "spherical k-means directions of a layer's hidden vectors (one random "
                                           "position per image), optionally the paper's spread-out pick");
  add_model_options(cmd, a.model);
  cmd->add_option("data", a.data, "dataset")->required();
  cmd->add_option("--layer,-l", a.layer, "layer (read where features are read: pre-ReLU where offered)")->required();
  cmd->add_option("-k", a.kmeans.k, "clusters")->capture_default_str();
  cmd->add_option("--iterations", a.kmeans.iterations, "Lloyd iterations at most")->capture_default_str();
  cmd->add_option("--pick", a.pick, "two-stage pick: k-means with this many groups on the centroids, one random "
                                    "centroid per group (0: keep every centroid)")->capture_default_str();
  cmd->add_option("--limit", a.sample.limit, "only the first N images (0 = all)")->capture_default_str();
  cmd->add_option("--out,-o", out, "output folder")->required();
  cmd->callback([] {
    a.model.device = global().device;
    RunManifest run(out, "kmeans", global().argv);
    analysis::kmeans_run(a, run);
  });
}

}  // namespace tension::cli
