// Times tension's attribution engine on a batch written by bench/attribution.py: K features of one layer
// attributed to an earlier layer (truncated forward, input crop, layer windows: whatever the Attributor plans).
// Usage: bench_attribution MODEL.pt INPUT.pt FEATURE_LAYER K ATTRIBUTION_LAYER REPS OUT.npy [DEVICE]
// Prints the median seconds per batch; writes E [K, B] for the script's equality check. DEVICE (cpu, cuda,
// cuda:N; default cpu): where the model and the batch live; on CUDA, TF32 is off (float32 throughout, as the
// equality checks need) and each timed batch ends with a device synchronisation.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <iostream>

#include "tension/attribution/attributor.h"
#include "tension/core/device.h"
#include "tension/core/npy.h"
#include "tension/core/threads.h"
#include "tension/model/torchscript/model.h"
#include "tension/model/zoo/unpickler.h"

int main(int argc, char** argv) {
  using namespace tension;
  if (argc != 8 && argc != 9) {
    std::cerr << "usage: bench_attribution MODEL.pt INPUT.pt FEATURE_LAYER K ATTRIBUTION_LAYER REPS OUT.npy "
                 "[DEVICE]\n";
    return 2;
  }
  configure_threads();
  const torch::Device device(argc == 9 ? argv[8] : "cpu");
  auto sync = [&] {
    if (device.is_cuda()) torch::cuda::synchronize(device.index());
  };
  configure_device(device);
  torch::Tensor x;
  for (auto& [k, v] : model::read_tensor_dict(argv[2])) {
    if (k == "x") x = v;
  }
  model::InputSpec in;
  in.height = x.size(2);
  in.width = x.size(3);
  auto m = model::load_torchscript(argv[1], in);
  m->to(device);
  x = x.to(device);
  attribution::AttributorOptions opt;
  const int k = std::stoi(argv[4]);
  for (int c = 0; c < k; ++c) opt.features.push_back(feature::parse_feature(std::string(argv[3]) + ":" + std::to_string(c)));
  opt.layers = {argv[5]};
  auto t_plan = std::chrono::steady_clock::now();
  attribution::Attributor attr(*m, opt);
  const auto& crop = attr.input_crop();
  std::cerr << "set-up (footprints, crop and layer-window plans): "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - t_plan).count() << " s\n"
            << "input crop: [" << crop.top << "," << crop.bottom << ") x [" << crop.left << "," << crop.right
            << "), layer windows: " << (attr.uses_layer_windows() ? "yes" : "no") << "\n";
  attr.attribute(x);  // warm-up
  sync();
  std::vector<double> times;
  std::vector<attribution::FeatureAttribution> res;
  for (int r = 0; r < std::stoi(argv[6]); ++r) {
    auto t0 = std::chrono::steady_clock::now();
    res = attr.attribute(x);
    sync();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  std::vector<torch::Tensor> e;
  for (const auto& f : res) e.push_back(f.layers[0].totals.e);
  write_npy(argv[7], torch::stack(e));
  std::cout << times[times.size() / 2] << "\n";
  return 0;
}
