#include "tension/train/classifier.h"

#include <fmt/format.h>

#include <chrono>

#include "tension/core/error.h"
#include "tension/core/progress.h"
#include "tension/data/loader.h"

namespace tension::train {

namespace {

// The whole dataset preprocessed into one tensor: Fashion-MNIST is 47 MB as float.
std::pair<torch::Tensor, torch::Tensor> load_all(const data::Dataset& ds, const model::InputSpec& spec) {
  data::LoaderOptions lo;
  lo.batch_size = 1024;
  data::BatchLoader loader(ds, spec, lo);
  std::vector<torch::Tensor> xs;
  std::vector<int64_t> labels;
  data::Batch b;
  while (loader.next(b)) {
    if (b.x.size(0) == 0) continue;
    xs.push_back(b.x);
    labels.insert(labels.end(), b.labels.begin(), b.labels.end());
  }
  if (xs.empty()) throw Error("no readable items in " + ds.describe());
  for (int64_t l : labels) {
    if (l < 0) throw Error("training needs labels; " + ds.describe() + " has unlabelled items");
  }
  return {torch::cat(xs), torch::tensor(labels, torch::kInt64)};
}

}  // namespace

std::vector<EpochStats> train_classifier(model::ZooModel& m, const data::Dataset& train_set,
                                         const TrainOptions& opt,
                                         const std::function<void(const EpochStats&)>& on_epoch) {
  auto [x, y] = load_all(train_set, m.input_spec());
  auto& module = m.module();
  auto params = module.parameters();
  for (auto& p : params) p.requires_grad_(true);
  torch::optim::Adam adam(params, torch::optim::AdamOptions(opt.lr));
  auto gen = at::detail::createCPUGenerator(opt.seed);
  const int64_t n = x.size(0);
  std::vector<EpochStats> stats;
  model::RunOptions ro;
  ro.want_output = true;
  ro.differentiable = true;
  for (int epoch = 1; epoch <= opt.epochs; ++epoch) {
    module.train();
    auto order = torch::randperm(n, gen);
    double loss_sum = 0;
    int64_t correct = 0;
    Progress bar("epoch " + std::to_string(epoch) + "/" + std::to_string(opt.epochs),
                 static_cast<size_t>(n), "img");
    for (int64_t start = 0; start < n; start += opt.batch_size) {
      auto idx = order.slice(0, start, std::min(n, start + opt.batch_size));
      auto xb = x.index_select(0, idx).to(m.device());
      auto yb = y.index_select(0, idx).to(m.device());
      adam.zero_grad();
      auto logits = m.run(xb, {}, ro).output;
      auto loss = torch::nn::functional::cross_entropy(logits, yb);
      loss.backward();
      adam.step();
      loss_sum += loss.item<double>() * idx.size(0);
      correct += (logits.argmax(1) == yb).sum().item<int64_t>();
      bar.advance(static_cast<size_t>(idx.size(0)));
    }
    bar.finish();
    EpochStats s{epoch, loss_sum / n, static_cast<double>(correct) / n, bar.elapsed_seconds()};
    stats.push_back(s);
    if (on_epoch) on_epoch(s);
  }
  module.eval();
  for (auto& p : params) p.requires_grad_(false);
  return stats;
}

Accuracy evaluate_accuracy(model::Model& m, const data::Dataset& ds, int64_t batch_size) {
  data::LoaderOptions lo;
  lo.batch_size = static_cast<size_t>(batch_size);
  data::BatchLoader loader(ds, m.input_spec(), lo);
  Accuracy acc;
  model::RunOptions ro;
  ro.want_output = true;
  data::Batch b;
  Progress bar("evaluate", loader.num_items(), "img");
  while (loader.next(b)) {
    acc.failed += static_cast<int64_t>(b.failures.size());
    bar.advance(b.indices.size() + b.failures.size());
    if (b.x.size(0) == 0) continue;
    auto logits = m.run(b.x.to(m.device()), {}, ro).output;
    if (logits.dim() != 2) {
      throw Error(fmt::format("model {} gives an output of shape {}, not class scores [N, classes]: it cannot be "
                              "evaluated",
                              m.name(), fmt::join(logits.sizes(), "x")));
    }
    auto pred = logits.argmax(1).cpu();
    auto labels = torch::tensor(b.labels, torch::kInt64);
    auto known = labels >= 0;
    acc.correct += (pred.eq(labels) & known).sum().item<int64_t>();
    acc.total += known.sum().item<int64_t>();
  }
  bar.finish();
  if (acc.total == 0) throw Error("cannot measure accuracy: " + ds.describe() + " has no labelled items");
  acc.accuracy = static_cast<double>(acc.correct) / acc.total;
  return acc;
}

}  // namespace tension::train
