#include "tension/data/synthetic.h"

#include <fmt/format.h>

#include <cmath>
#include <functional>
#include <map>
#include <random>

#include "tension/core/error.h"
#include "tension/core/splitmix.h"

namespace tension::data {

namespace {

constexpr double kPi = 3.14159265358979323846;

struct Params {
  std::string name;
  uint64_t n = 64, size = 32, channels = 3, seed = 0, classes = 4;
};

// A generator draws item `label`'s image [C, size, size] from rng.
using Generator = std::function<torch::Tensor(std::mt19937_64& rng, int64_t label, const Params& p)>;

double uniform(std::mt19937_64& rng, double lo, double hi) { return lo + (hi - lo) * double(rng() >> 11) * 0x1.0p-53; }

// Pixel coordinates for broadcasting: x = column index as [1, S], y = row index as [S, 1].
std::pair<torch::Tensor, torch::Tensor> grid(int64_t size) {
  auto r = torch::arange(size, torch::kFloat);
  return {r.view({1, size}), r.view({size, 1})};
}

torch::Tensor per_channel(std::mt19937_64& rng, int64_t channels, double lo, double hi) {
  std::vector<float> v;
  for (int64_t c = 0; c < channels; ++c) v.push_back(float(uniform(rng, lo, hi)));
  return torch::tensor(v).view({channels, 1, 1});
}

torch::Tensor noise(std::mt19937_64& rng, int64_t, const Params& p) {
  std::vector<float> v(p.channels * p.size * p.size);
  for (float& x : v) x = float(uniform(rng, 0.0, 1.0));
  return torch::tensor(v).view({int64_t(p.channels), int64_t(p.size), int64_t(p.size)});
}

torch::Tensor gratings(std::mt19937_64& rng, int64_t label, const Params& p) {
  double theta = (double(label) + uniform(rng, 0.0, 1.0)) * kPi / double(p.classes);
  double freq = uniform(rng, 2.0, 6.0), phase = uniform(rng, 0.0, 2.0 * kPi), contrast = uniform(rng, 0.5, 1.0);
  auto gains = per_channel(rng, p.channels, 0.5, 1.0);
  auto [x, y] = grid(p.size);
  auto wave = torch::sin((x * std::cos(theta) + y * std::sin(theta)) * (2.0 * kPi * freq / double(p.size)) + phase);
  return 0.5 + 0.5 * contrast * gains * wave.unsqueeze(0);
}

torch::Tensor blobs(std::mt19937_64& rng, int64_t label, const Params& p) {
  double s = double(p.size);
  auto [x, y] = grid(p.size);
  auto img = torch::zeros({int64_t(p.channels), int64_t(p.size), int64_t(p.size)});
  for (int64_t b = 0; b <= label; ++b) {
    double cx = uniform(rng, 0.15, 0.85) * s, cy = uniform(rng, 0.15, 0.85) * s;
    double sigma = uniform(rng, 0.05, 0.12) * s;
    auto colour = per_channel(rng, p.channels, 0.5, 1.0);
    img += colour * torch::exp(-((x - cx).square() + (y - cy).square()) / (2 * sigma * sigma)).unsqueeze(0);
  }
  return img.clamp_max(1.0);
}

const std::map<std::string, Generator>& generators() {
  static const std::map<std::string, Generator> g = {{"noise", noise}, {"gratings", gratings}, {"blobs", blobs}};
  return g;
}

uint64_t parse_count(const std::string& spec, const std::string& key, const std::string& value) {
  size_t used = 0;
  uint64_t v = 0;
  try {
    v = std::stoull(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != value.size() || value[0] == '-')
    throw Error("synthetic dataset " + spec + ": " + key + " must be a non-negative integer, got '" + value + "'");
  return v;
}

void check_range(const std::string& spec, const char* key, uint64_t v, uint64_t lo, uint64_t hi) {
  if (v < lo || v > hi)
    throw Error(fmt::format("synthetic dataset {}: {} must be in [{}, {}], got {}", spec, key, lo, hi, v));
}

Params parse(const std::string& spec) {
  Params p;
  size_t q = spec.find('?');
  p.name = spec.substr(0, q);
  if (!generators().count(p.name))
    throw Error("unknown synthetic dataset '" + p.name + "' (known: noise, gratings, blobs)");
  std::map<std::string, uint64_t*> keys = {
      {"n", &p.n}, {"size", &p.size}, {"channels", &p.channels}, {"seed", &p.seed}, {"classes", &p.classes}};
  std::string query = q == std::string::npos ? "" : spec.substr(q + 1);
  for (size_t start = 0; start < query.size();) {
    size_t end = std::min(query.find('&', start), query.size());
    std::string kv = query.substr(start, end - start);
    size_t eq = kv.find('=');
    auto it = keys.find(kv.substr(0, eq));
    if (eq == std::string::npos || it == keys.end())
      throw Error("synthetic dataset " + spec + ": '" + kv +
                  "' is not KEY=VALUE with KEY one of n, size, channels, seed, classes");
    *it->second = parse_count(spec, it->first, kv.substr(eq + 1));
    start = end + 1;
  }
  check_range(spec, "n", p.n, 1, uint64_t(1) << 32);
  check_range(spec, "size", p.size, 2, 4096);
  if (p.channels != 1 && p.channels != 3) throw Error("synthetic dataset " + spec + ": channels must be 1 or 3");
  check_range(spec, "classes", p.classes, 1, 64);
  return p;
}

class SyntheticDataset : public Dataset {
 public:
  explicit SyntheticDataset(Params p) : p_(std::move(p)), generate_(generators().at(p_.name)) {}

  size_t size() const override { return p_.n; }
  std::string id(size_t i) const override { return canonical() + "#" + std::to_string(i); }
  int64_t label(size_t i) const override { return labelled() ? int64_t(i % p_.classes) : -1; }

  std::vector<std::string> class_names() const override {
    std::vector<std::string> names;
    for (uint64_t k = 0; labelled() && k < p_.classes; ++k)
      names.push_back(p_.name == "gratings" ? fmt::format("{:g}deg", 180.0 * double(k) / double(p_.classes))
                                            : fmt::format("{} blob{}", k + 1, k ? "s" : ""));
    return names;
  }

  torch::Tensor load(size_t i) const override {
    if (i >= size()) throw Error("item " + std::to_string(i) + " is out of range for " + describe());
    std::mt19937_64 rng(splitmix64_hash(splitmix64_hash(p_.seed) + i));
    return generate_(rng, label(i), p_).contiguous();
  }

  std::string describe() const override { return "synthetic dataset " + canonical(); }

 private:
  bool labelled() const { return p_.name != "noise"; }

  std::string canonical() const {
    return fmt::format("synthetic:{}?n={}&size={}&channels={}&seed={}{}", p_.name, p_.n, p_.size, p_.channels, p_.seed,
                       labelled() ? fmt::format("&classes={}", p_.classes) : "");
  }

  Params p_;
  Generator generate_;
};

}  // namespace

std::unique_ptr<Dataset> open_synthetic(const std::string& spec) {
  return std::make_unique<SyntheticDataset>(parse(spec));
}

}  // namespace tension::data
