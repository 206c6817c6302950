#pragma once
// Trains and evaluates zoo classifiers (the embedded Fashion-MNIST default).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tension/data/dataset.h"
#include "tension/model/zoo/zoo.h"

namespace tension::train {

struct TrainOptions {
  int epochs = 4;
  int64_t batch_size = 128;
  double lr = 1e-3;         // Adam
  uint64_t seed = 0;        // shuffling order
};

struct EpochStats {
  int epoch;
  double mean_loss;
  double train_accuracy;
  double seconds;
};

// Trains the model's module with Adam and cross-entropy on the whole dataset, held in memory, reshuffled
// each epoch from `seed`. Leaves the module frozen and in eval mode. `on_epoch` sees each epoch's stats.
std::vector<EpochStats> train_classifier(model::ZooModel& m, const data::Dataset& train_set,
                                         const TrainOptions& opt,
                                         const std::function<void(const EpochStats&)>& on_epoch = {});

struct Accuracy {
  double accuracy = 0;
  int64_t correct = 0, total = 0, failed = 0;
};

// Top-1 accuracy of the model's output over every labelled item of the dataset.
Accuracy evaluate_accuracy(model::Model& m, const data::Dataset& ds, int64_t batch_size = 256);

}  // namespace tension::train
