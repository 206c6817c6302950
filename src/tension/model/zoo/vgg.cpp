// vgg11 and vgg11-bn in torchvision's layout: the same module paths (features.N, avgpool, classifier.N) and
// parameter keys, so that a torchvision state dict loads as is.
#include "tension/model/zoo/net.h"

namespace tension::model {

namespace {

namespace nn = torch::nn;

InputSpec imagenet_input() {
  InputSpec in;
  in.mean = {0.485, 0.456, 0.406};
  in.std = {0.229, 0.224, 0.225};
  return in;  // any size from 32 up runs: the adaptive pool feeds the classifier 7x7
}

class Vgg11 : public ZooNet {
 public:
  Vgg11(bool batchnorm, int64_t hidden, int64_t classes) : ZooNet(imagenet_input()) {
    constexpr int64_t kPool = 0;  // torchvision's "M"
    constexpr int64_t kConfigA[] = {64, kPool, 128, kPool, 256, 256, kPool, 512, 512, kPool, 512, 512, kPool};
    nn::Sequential features;
    int64_t in = 3;
    for (int64_t width : kConfigA) {
      if (width == kPool) {
        features->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(2)));
        continue;
      }
      features->push_back(nn::Conv2d(nn::Conv2dOptions(in, width, 3).padding(1)));
      if (batchnorm) features->push_back(nn::BatchNorm2d(width));
      features->push_back(nn::ReLU());
      in = width;
    }
    nn::Sequential classifier(nn::Linear(512 * 7 * 7, hidden), nn::ReLU(), nn::Dropout(0.5), nn::Linear(hidden, hidden),
                              nn::ReLU(), nn::Dropout(0.5), nn::Linear(hidden, classes));
    register_module("features", features);
    features_ = sequential_steps(features, "features");
    add_registered_step(features_, "avgpool", nn::AdaptiveAvgPool2d(7));
    register_module("classifier", classifier);
    classifier_ = sequential_steps(classifier, "classifier");
  }

  torch::Tensor forward(const torch::Tensor& x, TapRecorder& rec) override {
    auto h = run_steps(features_, x, rec);
    if (!h.defined()) return {};
    return run_steps(classifier_, torch::flatten(h, 1), rec);
  }

  std::optional<torch::Tensor> forward_from(const Tap& source, const torch::Tensor& h, TapRecorder& rec) override {
    if (auto feat = run_steps_from(features_, source, h, rec)) {
      if (!feat->defined()) return torch::Tensor();
      return run_steps(classifier_, torch::flatten(*feat, 1), rec);
    }
    return run_steps_from(classifier_, source, h, rec);
  }

 private:
  std::vector<NamedStep> features_;  // features.0 ... and avgpool
  std::vector<NamedStep> classifier_;
};

}  // namespace

std::shared_ptr<ZooNet> make_vgg11(bool batchnorm, int64_t hidden, int64_t classes) {
  return std::make_shared<Vgg11>(batchnorm, hidden, classes);
}

}  // namespace tension::model
