// UMAP's layout optimisation: uwot's per-node gradients, sampler and Adam over the fuzzy graph, and the curve
// 1 / (1 + a d^2b) they follow (find_ab_params).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "tension/atlas/umap_stages.h"
#include "tension/core/error.h"
#include "tension/core/parallel.h"

// uwot's optimiser (a BSD-2-Clause notice in each header) is included here and in no other file: it defines
// non-inline functions (docs/dependencies.md §1).
#include <uwot/epoch.h>
#include <uwot/tauprng.h>

namespace tension::atlas {
namespace umap_detail {
namespace {

// uwot's parallel-for contract: worker(begin, end, thread_id) over contiguous ranges. Short ranges (the Adam
// step over 2n coordinates) stay on the calling thread, where starting threads would cost more than the work.
struct UwotParallel {
  int threads;
  template <class Worker>
  void pfor(std::size_t items, Worker& worker) {
    constexpr std::size_t kMinPerThread = 4096;
    const std::size_t used = std::max<std::size_t>(1, std::min<std::size_t>(threads, items / kMinPerThread));
    const std::size_t step = (items + used - 1) / used;
    parallel_items(static_cast<int64_t>(used), static_cast<int>(used), [&](int64_t t) {
      const std::size_t begin = static_cast<std::size_t>(t) * step;
      worker(begin, std::min(items, begin + step), static_cast<std::size_t>(t));
    });
  }
};

// uwot's per-node generator factory for NodeWorker: the negative samples of node p in an epoch come from a
// stream that depends on (seed, epoch, p) alone, so the thread count cannot change them.
struct NodeRngFactory {
  uint64_t seed = 0;
  uint64_t epoch = 0;
  explicit NodeRngFactory(std::size_t) {}
  void reseed() { ++epoch; }
  uwot::tau_prng create(std::size_t node) const {
    uint64_t state = seed;
    state = splitmix64(state) ^ epoch;
    state = splitmix64(state) ^ node;
    const uint64_t s0 = splitmix64(state), s1 = splitmix64(state), s2 = splitmix64(state);
    return uwot::tau_prng(s0 & 0xffffffffULL, s1 & 0xffffffffULL, s2 & 0xffffffffULL);  // taus88 has 32-bit states
  }
};

struct UwotProgress {
  const UmapProgress& callback;
  int64_t epochs;
  int64_t done = 0;
  bool is_aborted() const { return false; }
  void report() {
    ++done;
    if (callback) callback("layout", done, epochs);
  }
};

}  // namespace

void optimize_layout(std::vector<float>& xy, const Graph& graph, const std::vector<float>& epochs_per_sample,
                     int epochs, const CurveParams& ab, const UmapOptions& opt, int threads,
                     const UmapProgress& progress) {
  // uwot's deterministic path: NodeWorker gathers each node's gradient over its own edges into BatchUpdate's
  // buffer (no two threads write one node), and Adam (uwot's batch defaults: beta1 0.5, beta2 0.9, eps 1e-7)
  // moves all coordinates at the end of the epoch.
  using Update = uwot::BatchUpdate<true, uwot::Adam>;
  uwot::Adam adam(opt.learning_rate, 0.5f, 0.9f, 1e-7f, xy.size());
  Update update(xy, xy, adam, new uwot::DoNothingCallback());  // takes ownership of the callback
  const uwot::umap_gradient gradient(static_cast<float>(ab.a), static_cast<float>(ab.b), opt.repulsion_strength);
  uwot::Sampler sampler(epochs_per_sample, opt.negative_sample_rate);
  uwot::NodeWorker<uwot::umap_gradient, Update, NodeRngFactory> worker(gradient, update, graph.head, graph.tail,
                                                                      graph.ptr, sampler, 2, xy.size() / 2);
  worker.rng_factory.seed = opt.seed;
  UwotParallel parallel{threads};
  UwotProgress uwot_progress{progress, epochs};
  uwot::optimize_layout(worker, uwot_progress, static_cast<unsigned int>(epochs), parallel);
}

}  // namespace umap_detail

CurveParams find_ab_params(double min_dist, double spread) {
  if (!(spread > 0) || !(min_dist >= 0) || !std::isfinite(spread) || !std::isfinite(min_dist))
    throw Error("find_ab_params needs spread > 0 and min_dist >= 0");
  constexpr int kPoints = 300;
  std::vector<double> xs(kPoints), ys(kPoints);
  for (int i = 0; i < kPoints; ++i) {
    xs[i] = 3.0 * spread * i / (kPoints - 1);  // np.linspace(0, 3 spread, 300)
    ys[i] = xs[i] < min_dist ? 1.0 : std::exp(-(xs[i] - min_dist) / spread);
  }
  // Levenberg-Marquardt from (1, 1), scipy's curve_fit start.
  auto cost = [&](double a, double b) {
    double c = 0;
    for (int i = 0; i < kPoints; ++i) {
      const double r = 1.0 / (1.0 + a * std::pow(xs[i], 2 * b)) - ys[i];
      c += r * r;
    }
    return c;
  };
  double a = 1, b = 1, lambda = 1e-3, current = cost(a, b);
  for (int iter = 0; iter < 500; ++iter) {
    double jaa = 0, jab = 0, jbb = 0, ga = 0, gb = 0;
    for (int i = 0; i < kPoints; ++i) {
      if (xs[i] == 0) continue;  // f = 1 there for every a, b
      const double p = std::pow(xs[i], 2 * b), f = 1.0 / (1.0 + a * p), r = f - ys[i];
      const double da = -p * f * f, db = -a * p * 2 * std::log(xs[i]) * f * f;
      jaa += da * da;
      jab += da * db;
      jbb += db * db;
      ga += da * r;
      gb += db * r;
    }
    bool improved = false;
    while (!improved && lambda < 1e12) {
      const double m11 = jaa * (1 + lambda), m22 = jbb * (1 + lambda), det = m11 * m22 - jab * jab;
      const double step_a = -(m22 * ga - jab * gb) / det, step_b = -(m11 * gb - jab * ga) / det;
      const double na = a + step_a, nb = b + step_b;
      const double c = na > 0 && nb > 0 ? cost(na, nb) : std::numeric_limits<double>::infinity();
      if (c < current) {
        const bool converged = std::abs(step_a) < 1e-12 * (1 + a) && std::abs(step_b) < 1e-12 * (1 + b);
        a = na;
        b = nb;
        current = c;
        lambda = std::max(lambda / 10, 1e-12);
        improved = true;
        if (converged) return {a, b};
      } else {
        lambda *= 10;
      }
    }
    if (!improved) break;  // no step lowers the cost: at the minimum to machine precision
  }
  return {a, b};
}

}  // namespace tension::atlas
