// BatchLoader: order and content independent of the thread count, unreadable items skipped and reported,
// labels kept with their images, `indices` honoured, the queue bounded, early destruction clean.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <iostream>
#include <thread>

#include "tension/core/error.h"
#include "tension/data/dataset.h"
#include "tension/data/loader.h"
#include "tension/data/preprocess.h"
#include "testing.h"

namespace {

using namespace tension;
using namespace std::chrono_literals;

model::InputSpec small_spec() {
  model::InputSpec spec;
  spec.height = spec.width = 16;
  return spec;
}

std::vector<data::Batch> all_batches(const data::Dataset& ds, data::LoaderOptions opt) {
  data::BatchLoader loader(ds, small_spec(), opt);
  std::vector<data::Batch> out;
  data::Batch b;
  while (loader.next(b)) out.push_back(b);
  return out;
}

void expect_same(const std::vector<data::Batch>& a, const std::vector<data::Batch>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t k = 0; k < a.size(); ++k) {
    EXPECT_TRUE(torch::equal(a[k].x, b[k].x)) << "batch " << k;
    EXPECT_EQ(a[k].indices, b[k].indices) << "batch " << k;
    EXPECT_EQ(a[k].labels, b[k].labels) << "batch " << k;
    ASSERT_EQ(a[k].failures.size(), b[k].failures.size()) << "batch " << k;
    for (size_t f = 0; f < a[k].failures.size(); ++f) EXPECT_EQ(a[k].failures[f].index, b[k].failures[f].index);
  }
}

TEST(DataLoader, SkipsAndReportsUnreadableItemsWhateverTheThreadCount) {
  auto ds = data::open_dataset(tension::testing::testdata("data/folder"));
  ASSERT_EQ(ds->size(), 12u);  // items 9 and 10 are the corrupt and the truncated JPEG
  data::LoaderOptions opt;
  opt.batch_size = 3;
  opt.threads = 1;
  auto one = all_batches(*ds, opt);
  opt.threads = 2;
  opt.queue_batches = 1;
  auto two = all_batches(*ds, opt);
  expect_same(one, two);

  ASSERT_EQ(one.size(), 4u);
  std::vector<size_t> seen, failed;
  for (const auto& b : one) {
    EXPECT_EQ(b.x.size(0), int64_t(b.indices.size()));
    EXPECT_EQ(b.x.sizes().slice(1), torch::IntArrayRef({3, 16, 16}));
    seen.insert(seen.end(), b.indices.begin(), b.indices.end());
    for (const auto& f : b.failures) {
      failed.push_back(f.index);
      EXPECT_EQ(f.id, ds->id(f.index));
      EXPECT_NE(f.reason.find("cannot decode image"), std::string::npos) << f.reason;
    }
  }
  EXPECT_EQ(seen, (std::vector<size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 11}));
  EXPECT_EQ(failed, (std::vector<size_t>{9, 10}));
  EXPECT_EQ(one[3].labels, (std::vector<int64_t>{-1}));
  EXPECT_EQ(one[3].failures.size(), 2u);
}

TEST(DataLoader, SameBatchesForOneTwoAndThreeThreads) {
  auto ds = data::open_dataset("synthetic:gratings?n=50&size=24&seed=9");
  data::LoaderOptions opt;
  opt.batch_size = 4;
  opt.threads = 1;
  auto ref = all_batches(*ds, opt);
  ASSERT_EQ(ref.size(), 13u);
  EXPECT_EQ(ref.back().indices, (std::vector<size_t>{48, 49}));
  for (int threads : {2, 3}) {
    opt.threads = threads;
    expect_same(ref, all_batches(*ds, opt));
  }
}

TEST(DataLoader, IndicesSelectAndOrderItems) {
  auto ds = data::open_dataset(tension::testing::testdata("data/folder"));
  data::LoaderOptions opt;
  opt.batch_size = 2;
  opt.indices = {11, 0, 9, 4};
  data::BatchLoader loader(*ds, small_spec(), opt);
  EXPECT_EQ(loader.num_items(), 4u);
  data::Batch b;
  ASSERT_TRUE(loader.next(b));
  EXPECT_EQ(b.indices, (std::vector<size_t>{11, 0}));
  EXPECT_EQ(b.labels, (std::vector<int64_t>{-1, 0}));
  ASSERT_TRUE(loader.next(b));
  EXPECT_EQ(b.indices, (std::vector<size_t>{4}));
  ASSERT_EQ(b.failures.size(), 1u);
  EXPECT_EQ(b.failures[0].index, 9u);
  EXPECT_FALSE(loader.next(b));

  opt.indices = {3, 12};
  EXPECT_THROW(data::BatchLoader(*ds, small_spec(), opt), Error);
}

// Another dataset's items, to be changed by the tests' datasets below.
class WrappedDataset : public data::Dataset {
 public:
  explicit WrappedDataset(std::unique_ptr<data::Dataset> inner) : inner_(std::move(inner)) {}
  size_t size() const override { return inner_->size(); }
  std::string id(size_t i) const override { return inner_->id(i); }
  int64_t label(size_t i) const override { return inner_->label(i); }
  std::vector<std::string> class_names() const override { return inner_->class_names(); }
  torch::Tensor load(size_t i) const override { return inner_->load(i); }
  std::string describe() const override { return inner_->describe(); }

 private:
  std::unique_ptr<data::Dataset> inner_;
};

// Item `no_label` has an image but its label cannot be read; item `no_image` cannot be decoded.
class FlawedDataset : public WrappedDataset {
 public:
  FlawedDataset(std::unique_ptr<data::Dataset> inner, size_t no_label, size_t no_image)
      : WrappedDataset(std::move(inner)), no_label_(no_label), no_image_(no_image) {}
  int64_t label(size_t i) const override {
    if (i == no_label_) throw Error("no label for " + id(i));
    return WrappedDataset::label(i);
  }
  torch::Tensor load(size_t i) const override {
    if (i == no_image_) throw Error("cannot decode image " + id(i) + ": corrupt data");
    return WrappedDataset::load(i);
  }

 private:
  size_t no_label_, no_image_;
};

TEST(DataLoader, LabelsStayWithTheirImagesAndBadItemsAreNamed) {
  const FlawedDataset ds(data::open_dataset("synthetic:gratings?n=20&size=16&seed=3"), 5, 13);
  for (int threads : {1, 3}) {
    data::LoaderOptions opt;
    opt.batch_size = 4;
    opt.threads = threads;
    std::vector<size_t> failed;
    for (const auto& b : all_batches(ds, opt)) {
      ASSERT_EQ(b.x.size(0), int64_t(b.indices.size())) << threads << " threads";
      ASSERT_EQ(b.labels.size(), b.indices.size()) << threads << " threads";
      for (size_t k = 0; k < b.indices.size(); ++k) {
        const size_t i = b.indices[k];
        EXPECT_EQ(b.labels[k], ds.label(i)) << "item " << i;
        EXPECT_TRUE(torch::equal(b.x[int64_t(k)], data::preprocess(ds.load(i), small_spec()))) << "item " << i;
      }
      for (const auto& f : b.failures) {
        failed.push_back(f.index);
        EXPECT_EQ(f.id, ds.id(f.index));
        EXPECT_NE(f.reason.find(ds.id(f.index)), std::string::npos) << f.reason;
      }
    }
    EXPECT_EQ(failed, (std::vector<size_t>{5, 13})) << threads << " threads";
  }
}

// Counts loads, to observe how far the workers run ahead of the consumer.
class CountingDataset : public WrappedDataset {
 public:
  using WrappedDataset::WrappedDataset;
  torch::Tensor load(size_t i) const override {
    ++loads;
    return WrappedDataset::load(i);
  }
  mutable std::atomic<int> loads{0};
};

// Destroys the loader, failing the whole binary if that hangs (a hung thread cannot be joined).
void destroy_within_20s(std::unique_ptr<data::BatchLoader>& loader, const std::string& when) {
  auto done = std::async(std::launch::async, [&] { loader.reset(); });
  if (done.wait_for(20s) != std::future_status::ready) {
    std::cerr << "BatchLoader destructor hung " << when << "\n";
    std::_Exit(1);
  }
}

bool wait_for_loads(const CountingDataset& ds, int n) {
  for (auto end = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < end;) {
    if (ds.loads >= n) return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

TEST(DataLoader, QueueHoldsAtMostQueueBatches) {
  CountingDataset ds(data::open_dataset("synthetic:noise?n=200&size=16"));
  data::LoaderOptions opt;
  opt.batch_size = 4;
  opt.threads = 3;
  opt.queue_batches = 2;
  auto loader = std::make_unique<data::BatchLoader>(ds, small_spec(), opt);
  EXPECT_TRUE(wait_for_loads(ds, 8));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(ds.loads, 8);  // two batches of four, then the workers wait
  data::Batch b;
  EXPECT_TRUE(loader->next(b));
  EXPECT_TRUE(wait_for_loads(ds, 12));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(ds.loads, 12);
  destroy_within_20s(loader, "with batches waiting");
}

TEST(DataLoader, DestroyedEarlyDoesNotHang) {
  auto ds = data::open_dataset("synthetic:blobs?n=100000&size=64");
  for (int consumed : {0, 1, 3}) {
    data::LoaderOptions opt;
    opt.batch_size = 16;
    opt.threads = 2;
    auto loader = std::make_unique<data::BatchLoader>(*ds, small_spec(), opt);
    data::Batch b;
    for (int k = 0; k < consumed; ++k) EXPECT_TRUE(loader->next(b));
    destroy_within_20s(loader, "after " + std::to_string(consumed) + " batches");
  }
}

}  // namespace
