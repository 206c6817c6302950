// fmnist-cnn and fmnist-cnn-bn: the embedded default, a small ReLU CNN for 1x28x28 Fashion-MNIST images.
#include "tension/model/zoo/net.h"

namespace tension::model {

namespace {

namespace nn = torch::nn;

InputSpec fmnist_input() {
  InputSpec in;
  in.channels = 1;
  in.height = in.width = 28;
  in.fixed_size = true;  // fc1 takes exactly 64x7x7
  return in;
}

// Three conv layers, so that "preceding layer" attributions exist at several depths, yet small enough to train
// to over 90% test accuracy in a few epochs on two CPU cores.
class FmnistCnn : public ZooNet {
 public:
  explicit FmnistCnn(bool batchnorm) : ZooNet(fmnist_input()), batchnorm_(batchnorm) {
    conv_relu(1, 1, 32);
    conv_relu(2, 32, 32);
    add_registered_step(steps_, "pool1", nn::MaxPool2d(2));
    conv_relu(3, 32, 64);
    add_registered_step(steps_, "pool2", nn::MaxPool2d(2));
    add_registered_step(steps_, "flatten", nn::Flatten());
    add_registered_step(steps_, "fc1", nn::Linear(64 * 7 * 7, 128));
    if (batchnorm_) add_registered_step(steps_, "bn4", nn::BatchNorm1d(128));
    add_registered_step(steps_, "relu4", nn::ReLU());
    add_registered_step(steps_, "fc2", nn::Linear(128, 10));
  }

  torch::Tensor forward(const torch::Tensor& x, TapRecorder& rec) override { return run_steps(steps_, x, rec); }
  std::optional<torch::Tensor> forward_from(const Tap& source, const torch::Tensor& h, TapRecorder& rec) override {
    return run_steps_from(steps_, source, h, rec);
  }

 private:
  // convI (3x3, same size), bnI when batch-normalised, reluI.
  void conv_relu(int i, int64_t in, int64_t out) {
    auto n = std::to_string(i);
    add_registered_step(steps_, "conv" + n, nn::Conv2d(nn::Conv2dOptions(in, out, 3).padding(1)));
    if (batchnorm_) add_registered_step(steps_, "bn" + n, nn::BatchNorm2d(out));
    add_registered_step(steps_, "relu" + n, nn::ReLU());
  }

  bool batchnorm_;
  std::vector<NamedStep> steps_;
};

}  // namespace

std::shared_ptr<ZooNet> make_fmnist_cnn(bool batchnorm) { return std::make_shared<FmnistCnn>(batchnorm); }

}  // namespace tension::model
