// toy-mlp and toy-mlp-nobias: a small fully connected ReLU net on 1x8x8 inputs. Without biases it is
// positively homogeneous, so sum(grad * activation) at any layer equals the output exactly.
#include "tension/model/zoo/net.h"

namespace tension::model {

namespace {

namespace nn = torch::nn;

InputSpec toy_mlp_input() {
  InputSpec in;
  in.channels = 1;
  in.height = in.width = 8;
  in.fixed_size = true;
  return in;
}

class ToyMlp : public ZooNet {
 public:
  explicit ToyMlp(bool bias) : ZooNet(toy_mlp_input()) {
    add_registered_step(steps_, "flatten", nn::Flatten());
    add_registered_step(steps_, "fc1", nn::Linear(nn::LinearOptions(64, 32).bias(bias)));
    add_registered_step(steps_, "relu1", nn::ReLU());
    add_registered_step(steps_, "fc2", nn::Linear(nn::LinearOptions(32, 16).bias(bias)));
    add_registered_step(steps_, "relu2", nn::ReLU());
    add_registered_step(steps_, "fc3", nn::Linear(nn::LinearOptions(16, 4).bias(bias)));
  }

  torch::Tensor forward(const torch::Tensor& x, TapRecorder& rec) override { return run_steps(steps_, x, rec); }
  std::optional<torch::Tensor> forward_from(const Tap& source, const torch::Tensor& h, TapRecorder& rec) override {
    return run_steps_from(steps_, source, h, rec);
  }

 private:
  std::vector<NamedStep> steps_;
};

}  // namespace

std::shared_ptr<ZooNet> make_toy_mlp(bool bias) { return std::make_shared<ToyMlp>(bias); }

}  // namespace tension::model
