#pragma once
// Helpers shared by the zoo tests (test_zoo*.cpp): the fixture's reference files and example inputs.
#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>

#include "tension/core/error.h"
#include "tension/model/zoo/zoo.h"
#include "tension/model/zoo/unpickler.h"
#include "testing.h"

namespace tension::testing {

// A file written by tests/python/fixture_zoo.py, as name -> tensor.
inline std::map<std::string, torch::Tensor> zoo_ref(const std::string& file) {
  std::map<std::string, torch::Tensor> out;
  for (auto& [k, v] : model::read_tensor_dict(testdata("zoo/" + file))) out[k] = v;
  return out;
}

inline std::unique_ptr<model::Model> zoo_model(const std::string& name, const std::string& weights = "",
                                               uint64_t seed = 0) {
  model::ZooOptions opt;
  opt.weights = weights;
  opt.seed = seed;
  auto m = model::make_zoo_model(name, opt);
  if (!m) throw std::runtime_error("no zoo model " + name);
  return m;
}

inline model::ZooModel& as_zoo(model::Model& m) { return dynamic_cast<model::ZooModel&>(m); }

// Uniform pixels in the model's input range at its size (or side x side).
inline torch::Tensor example_input(const model::Model& m, int64_t batch = 1, int64_t side = 0, uint64_t seed = 1) {
  const auto& s = m.input_spec();
  torch::manual_seed(seed);
  auto x = torch::rand({batch, s.channels, side ? side : s.height, side ? side : s.width});
  return x * (s.range_hi - s.range_lo) + s.range_lo;
}

inline model::RunOptions run_options(bool want_output, bool differentiable = false) {
  model::RunOptions o;
  o.want_output = want_output;
  o.differentiable = differentiable;
  return o;
}

inline std::vector<model::Tap> taps_of(std::initializer_list<const char*> specs) {
  std::vector<model::Tap> taps;
  for (const char* s : specs) taps.push_back(model::parse_tap(s));
  return taps;
}

}  // namespace tension::testing
