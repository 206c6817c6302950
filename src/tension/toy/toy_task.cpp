#include "tension/toy/toy_task.h"

#include <cmath>

#include "tension/core/error.h"
#include "tension/toy/sparse_batch.h"

namespace tension::toy {

ToyPreset parse_preset(const std::string& name) {
  if (name == "paper") return ToyPreset::Paper;
  if (name == "code") return ToyPreset::Code;
  throw Error("unknown toy preset '" + name + "' (paper or code)");
}

std::string preset_name(ToyPreset p) { return p == ToyPreset::Paper ? "paper" : "code"; }

ToyTask ToyTask::named(const std::string& name, ToyPreset preset) {
  ToyTask t;
  if (name == "abs") {
    t.p_on = preset == ToyPreset::Paper ? 0.1 : 0.01;
    return t;
  }
  if (name == "xor") {
    t.kind = TaskKind::Xor;
    t.p_on = 0.05;
    return t;
  }
  throw Error("unknown toy task '" + name + "' (abs or xor)");
}

std::vector<float> ToyTask::importance() const {
  std::vector<float> out(features);
  for (int i = 0; i < features; ++i) out[i] = static_cast<float>(std::pow(importance_decay, i));
  return out;
}

void ToyTask::target(const float* x, float* f) const {
  for (int i = 0; i < features; ++i) {
    f[i] = kind == TaskKind::Abs ? std::fabs(x[i]) : static_cast<float>((x[2 * i] != 0) != (x[2 * i + 1] != 0));
  }
}

void ToyTask::validate() const {
  if (features < 1 || features > kOutputPad) {
    throw Error("toy features must be 1 to " + std::to_string(kOutputPad) + ", not " + std::to_string(features));
  }
  if (!(p_on > 0 && p_on <= 1)) throw Error("the probability that a feature is on must be in (0, 1]");
  if (!(importance_decay > 0)) throw Error("the importance decay must be positive");
}

}  // namespace tension::toy
