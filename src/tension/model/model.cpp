#include "tension/model/model.h"

#include "tension/core/error.h"

namespace tension::model {

void check_input(const std::string& model_name, const InputSpec& spec, const torch::Tensor& x) {
  std::string want = "[N, " + std::to_string(spec.channels) + ", " +
                     (spec.fixed_size ? std::to_string(spec.height) + ", " + std::to_string(spec.width)
                                      : std::string("H, W")) + "]";
  bool ok = x.defined() && x.dim() == 4 && x.size(1) == spec.channels &&
            (!spec.fixed_size || (x.size(2) == spec.height && x.size(3) == spec.width));
  if (!ok) {
    throw Error("model " + model_name + " takes input of shape " + want + ", got " +
                (x.defined() ? c10::str(x.sizes()) : std::string("an undefined tensor")));
  }
  if (!x.is_floating_point()) throw Error("model " + model_name + " takes a floating-point input");
}

RunResult Model::run_from(const Tap& source, const torch::Tensor&, const std::vector<Tap>&, const RunOptions&) {
  throw Error("model " + name() + " cannot run from an intermediate layer (" + source.str() + ")");
}

}  // namespace tension::model
