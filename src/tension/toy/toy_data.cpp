#include "tension/toy/toy_data.h"

#include <cmath>
#include <map>
#include <utility>

#include "tension/core/error.h"

namespace tension::toy {

ToyData::ToyData(ToyTask task, uint64_t seed) : task_(std::move(task)), rng_(seed) {
  task_.validate();
  log_off_ = std::log1p(-task_.p_on);
}

float ToyData::uniform() { return static_cast<float>(rng_() >> 40) * 0x1p-24f; }

RawBatch ToyData::next(int64_t rows) {
  RawBatch b;
  b.rows = rows;
  const int n = task_.features;
  const int64_t slots = rows * n;  // (row, feature) pairs, row-major
  // The gap to the next on slot is geometric: floor(log(u) / log(1 - p)) slots stay off (u in (0, 1]).
  auto gap = [&]() -> int64_t {
    if (task_.p_on >= 1) return 0;
    const double g = std::floor(std::log(1.0 - static_cast<double>(uniform())) / log_off_);
    return g < static_cast<double>(slots) ? static_cast<int64_t>(g) : slots;
  };
  for (int64_t s = gap(); s < slots; s += 1 + gap()) {
    const auto r = static_cast<int32_t>(s / n), f = static_cast<int32_t>(s % n);
    if (task_.kind == TaskKind::Abs) {
      const float u = uniform();
      b.row.push_back(r);
      b.input.push_back(f);
      b.value.push_back(task_.unit_values ? u : 2 * u - 1);
    } else {
      for (int k = 0; k < 2; ++k) {
        if (uniform() < 0.5f) {
          b.row.push_back(r);
          b.input.push_back(2 * f + k);
          b.value.push_back(1.f);
        }
      }
    }
  }
  return b;
}

torch::Tensor to_dense(const ToyTask& task, const RawBatch& raw) {
  auto x = torch::zeros({raw.rows, task.inputs()});
  auto a = x.accessor<float, 2>();
  for (size_t e = 0; e < raw.row.size(); ++e) a[raw.row[e]][raw.input[e]] = raw.value[e];
  return x;
}

SparseBatch compress(const ToyTask& task, const RawBatch& raw) {
  // A row's key is its list of non-zero (input, value) entries; zero values are dropped (U(-1,1) can draw 0).
  using Key = std::vector<std::pair<int32_t, float>>;
  std::map<Key, int64_t> count;
  int64_t nonzero_rows = 0;
  for (size_t e = 0; e < raw.row.size();) {
    Key key;
    const int32_t r = raw.row[e];
    for (; e < raw.row.size() && raw.row[e] == r; ++e) {
      if (raw.value[e] != 0) key.emplace_back(raw.input[e], raw.value[e]);
    }
    if (!key.empty()) {
      ++count[key];
      ++nonzero_rows;
    }
  }
  if (nonzero_rows < raw.rows) count[Key{}] = raw.rows - nonzero_rows;
  SparseBatch b;
  b.rows = raw.rows;
  std::vector<float> x(task.inputs()), f(task.features);
  for (const auto& [key, k] : count) {
    std::fill(x.begin(), x.end(), 0.f);
    for (const auto& [in, v] : key) {
      b.add_entry(in, v);
      x[in] = v;
    }
    task.target(x.data(), f.data());
    b.close_row(static_cast<float>(k), f.data(), task.features);
  }
  return b;
}

}  // namespace tension::toy
