// Times tension's feature-visualisation loop on the problem written by bench/featurevis.py: an accentuation of a
// seed image toward S+ and S- (two batch items) of a unit, MACO, random crops and noise, the forward stopping at
// the attribution layer.
// Usage: bench_featurevis MODEL.pt SEED.npy FEATURE LAYER STEPS TRANSFORMS OUT_DIR
// Prints steps per second; writes OUT_DIR/s.npy (the cropped S), box.npy (its footprint) and image0.npy (the
// rendered seed at step 0) for the script's checks.
#include <chrono>
#include <iostream>

#include "tension/attribution/attributor.h"
#include "tension/core/npy.h"
#include "tension/core/threads.h"
#include "tension/data/preprocess.h"
#include "tension/model/torchscript/model.h"
#include "tension/viz/attribution_target.h"
#include "tension/viz/optimize.h"

int main(int argc, char** argv) {
  using namespace tension;
  if (argc != 8) {
    std::cerr << "usage: bench_featurevis MODEL.pt SEED.npy FEATURE LAYER STEPS TRANSFORMS OUT_DIR\n";
    return 2;
  }
  configure_threads();
  const std::string out = argv[7];
  model::InputSpec in;  // 3 x 224 x 224 in [0, 1]
  auto m = model::load_torchscript(argv[1], in);
  auto seed = read_npy(argv[2]).to(torch::kFloat);  // [3, S, S] in [0, 1]
  const int64_t canvas = seed.size(1);

  attribution::AttributorOptions ao;
  ao.features = {feature::parse_feature(argv[3])};
  ao.layers = {argv[4]};
  ao.keep_s = true;
  attribution::Attributor attributor(*m, ao);
  auto attr = viz::attributions_per_feature(attributor, data::preprocess(seed, in).unsqueeze(0)).front();
  write_npy(out + "/s.npy", attr.s);
  const auto& b = attr.footprint;
  write_npy(out + "/box.npy", torch::tensor({b.top, b.left, b.bottom, b.right}, torch::kLong));

  std::vector<viz::Objective> objectives{
      viz::target_objective(*m, ao.features[0], viz::Target::SPos, &attr, 1, 0),
      viz::target_objective(*m, ao.features[0], viz::Target::SNeg, &attr, 1, 1)};
  auto seeds = seed.unsqueeze(0).expand({2, -1, -1, -1}).contiguous();
  viz::OptimizeOptions opt;
  opt.steps = std::stoi(argv[5]);
  opt.lr = 0.02;
  opt.progress = false;
  opt.transforms.count = std::stoi(argv[6]);
  viz::ImageOptions io{2, 3, canvas};
  io.seed_images = seeds;
  {
    viz::MacoImage warm(io, {});
    write_npy(out + "/image0.npy", warm.render().detach());
    auto one = opt;
    one.steps = 1;
    viz::optimize(*m, warm, objectives, one);  // warm-up
  }
  viz::MacoImage param(io, {});
  auto t0 = std::chrono::steady_clock::now();
  auto res = viz::optimize(*m, param, objectives, opt);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto crop = viz::plan_objectives(*m, objectives).input;
  std::cerr << "input crop: rows [" << crop.top << "," << crop.bottom << "), cols [" << crop.left << "," << crop.right
            << ")\n";
  std::cerr << "loss: " << res.curve.front().loss << " -> " << res.curve.back().loss << "\n";
  std::cout << opt.steps / s << "\n";
  return 0;
}
