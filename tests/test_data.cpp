// The data stage against an independent oracle: tests/python/fixture_images.py wrote images and IDX files
// and what PIL, numpy and torchvision make of them (data/expected.pt, data/listing.txt).
#include <gtest/gtest.h>
#include <torch/serialize.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "tension/core/error.h"
#include "tension/data/dataset.h"
#include "tension/data/idx_dataset.h"
#include "tension/data/image_decode.h"
#include "tension/data/jpeg_integrity.h"
#include "tension/data/preprocess.h"
#include "tension/model/input_range.h"
#include "testing.h"

namespace {

using namespace tension;
using tension::testing::error_of;
using tension::testing::testdata;

const std::map<std::string, torch::Tensor>& expected() {
  static const std::map<std::string, torch::Tensor> tensors = [] {
    std::ifstream in(testdata("data/expected.pt"), std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::map<std::string, torch::Tensor> out;
    for (const auto& e : torch::pickle_load(bytes).toGenericDict()) out[e.key().toStringRef()] = e.value().toTensor();
    return out;
  }();
  return tensors;
}

torch::Tensor want(const std::string& key) {
  auto it = expected().find(key);
  if (it == expected().end()) throw std::runtime_error("data/expected.pt has no " + key);
  return it->second;
}

std::string folder(const std::string& rel = "") { return testdata("data/folder") + (rel.empty() ? "" : "/" + rel); }
std::string idx(const std::string& name) { return testdata("data/idx/" + name); }

void expect_mentions(const std::string& message, const std::vector<std::string>& parts) {
  EXPECT_FALSE(message.empty()) << "no tension::Error was thrown";
  for (const auto& p : parts) EXPECT_NE(message.find(p), std::string::npos) << "'" << p << "' missing in: " << message;
}

std::vector<char> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// ---- decoding ----

TEST(DataDecode, PixelsEqualPil) {
  int checked = 0;
  for (const auto& [key, pil] : expected()) {
    if (key.rfind("decoded/", 0) != 0) continue;
    std::string rel = key.substr(8);
    torch::Tensor ours = data::decode_image(folder(rel));
    ASSERT_EQ(ours.sizes(), pil.sizes()) << rel;
    EXPECT_TRUE(torch::equal(ours, pil)) << rel << ": max |diff| " << (ours - pil).abs().max().item<float>();
    ++checked;
  }
  EXPECT_EQ(checked, 10);  // baseline, EXIF, progressive JPEG; grey, RGBA, 16-bit, palette PNG; BMP; TIFF; root PNG
}

TEST(DataDecode, ExifOrientationIsIgnored) {
  // Stored 40 wide and 30 high with orientation 6 ("rotate 90°"): applying it would give 30 wide, 40 high.
  EXPECT_EQ(data::decode_image(folder("cat/b_exif6.JPG")).sizes(), torch::IntArrayRef({3, 30, 40}));
}

TEST(DataDecode, CorruptFileIsAnError) {
  expect_mentions(error_of([] { data::decode_image(folder("emu/j_corrupt.jpg")); }),
                  {"cannot decode image", folder("emu/j_corrupt.jpg")});
}

TEST(DataDecode, TruncatedJpegIsAnError) {
  expect_mentions(error_of([] { data::decode_image(folder("emu/k_truncated.jpg")); }),
                  {"cannot decode image", folder("emu/k_truncated.jpg"), "truncated"});
}

TEST(DataDecode, MissingFileIsAnError) {
  expect_mentions(error_of([] { data::decode_image(folder("cat/none.jpg")); }),
                  {"cannot decode image", folder("cat/none.jpg")});
}

TEST(DataDecode, JpegCompletenessFollowsTheMarkers) {
  auto b = file_bytes(folder("cat/b_exif6.JPG"));
  auto complete = [](const std::vector<char>& v) {
    return data::jpeg_complete(reinterpret_cast<const unsigned char*>(v.data()), v.size());
  };
  EXPECT_TRUE(complete(b));
  auto with_trailer = b;
  with_trailer.insert(with_trailer.end(), {'t', 'r', 'a', 'i', 'l', '\xFF', '\x00'});
  EXPECT_TRUE(complete(with_trailer));                                  // data after the end-of-image marker is allowed
  EXPECT_FALSE(complete(std::vector<char>(b.begin(), b.end() - 2)));    // only the end marker missing
  EXPECT_TRUE(complete(file_bytes(folder("cat/c_progressive.jpeg"))));  // many scans
  EXPECT_FALSE(complete(file_bytes(folder("emu/k_truncated.jpg"))));
}

// ---- image folder ----

TEST(DataFolder, ListingIsSortedRecursiveAndLabelled) {
  std::ifstream in(testdata("data/listing.txt"));
  std::vector<std::pair<std::string, int64_t>> want_items;
  std::string rel, hash;
  int64_t label;
  while (in >> rel) {
    if (rel == "hash") {
      in >> hash;
    } else {
      in >> label;
      want_items.emplace_back(rel, label);
    }
  }
  ASSERT_EQ(want_items.size(), 12u);
  auto ds = data::open_dataset(folder());
  ASSERT_EQ(ds->size(), want_items.size());
  for (size_t i = 0; i < ds->size(); ++i) {
    EXPECT_EQ(ds->id(i), folder(want_items[i].first));
    EXPECT_EQ(ds->label(i), want_items[i].second) << want_items[i].first;
  }
  EXPECT_EQ(ds->class_names(), (std::vector<std::string>{"cat", "dog", "emu"}));
  // The fixture hashed absolute paths.
  auto absolute = data::open_dataset(std::filesystem::absolute(folder()).lexically_normal().string());
  EXPECT_EQ(data::listing_hash(*absolute), hash);
}

TEST(DataFolder, EmptyOrMissingFolderIsAnError) {
  std::string empty = tension::testing::temp_dir("data_empty_folder");
  std::ofstream(empty + "/readme.txt") << "no images here";
  expect_mentions(error_of([&] { data::open_dataset(empty); }), {empty, "no images"});
  expect_mentions(error_of([] { data::open_dataset(folder("absent")); }), {folder("absent"), "does not exist"});
}

// ---- IDX files ----

void expect_idx_round_trip(const std::string& name) {
  auto ds = data::open_dataset(idx(name));
  auto images = want("idx/images");
  auto labels = want("idx/labels");
  ASSERT_EQ(int64_t(ds->size()), images.size(0)) << name;
  for (size_t i = 0; i < ds->size(); ++i) {
    EXPECT_TRUE(torch::equal(ds->load(i), images[i].unsqueeze(0).to(torch::kFloat) / 255)) << name << " #" << i;
    EXPECT_EQ(ds->label(i), labels[i].item<int64_t>()) << name << " #" << i;
  }
  EXPECT_EQ(ds->id(2), idx(name) + "#2");
  EXPECT_EQ(ds->class_names(), (std::vector<std::string>{"0", "1", "2", "3"}));
}

TEST(DataIdx, GzipRoundTrip) { expect_idx_round_trip("small-images-idx3-ubyte.gz"); }

TEST(DataIdx, RawRoundTrip) { expect_idx_round_trip("raw-images-idx3-ubyte"); }

TEST(DataIdx, ColourImagesAreChannelsFirst) {
  auto ds = data::open_dataset(idx("colour-images-idx4-ubyte.gz"));
  auto images = want("idx/colour_images");
  ASSERT_EQ(ds->size(), 4u);
  for (size_t i = 0; i < ds->size(); ++i) {
    EXPECT_TRUE(torch::equal(ds->load(i), images[i].permute({2, 0, 1}).to(torch::kFloat) / 255)) << i;
    EXPECT_EQ(ds->label(i), want("idx/colour_labels")[i].item<int64_t>());
  }
}

TEST(DataIdx, WithoutLabelFileLabelsAreMinusOne) {
  auto ds = data::open_dataset(idx("nolabels-images-idx3-ubyte"));
  ASSERT_EQ(ds->size(), 3u);
  EXPECT_EQ(ds->label(0), -1);
  EXPECT_TRUE(ds->class_names().empty());
}

TEST(DataIdx, LabelFileNames) {
  EXPECT_EQ(data::idx_labels_path("/d/train-images-idx3-ubyte.gz"), "/d/train-labels-idx1-ubyte.gz");
  EXPECT_EQ(data::idx_labels_path("/d/t10k-images.idx3-ubyte"), "/d/t10k-labels.idx1-ubyte");
  EXPECT_EQ(data::idx_labels_path("/images/x-images-idx4-ubyte"), "/images/x-labels-idx1-ubyte");
  EXPECT_EQ(data::idx_labels_path("/d/pixels.bin"), "");
}

TEST(DataIdx, MalformedFilesAreErrors) {
  std::string truncated = idx("truncated-images-idx3-ubyte.gz");
  expect_mentions(error_of([&] { data::open_dataset(truncated); }), {truncated, "truncated", "7x5x6", "226", "116"});
  std::string bad_gzip = idx("truncgz-images-idx3-ubyte.gz");
  expect_mentions(error_of([&] { data::open_dataset(bad_gzip); }), {bad_gzip, "truncated gzip"});
  std::string bad_magic = idx("badmagic-images-idx3-ubyte");
  expect_mentions(error_of([&] { data::open_dataset(bad_magic); }), {bad_magic, "magic"});
}

TEST(DataIdx, FashionMnistTestSplit) {
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist"))
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  auto ds = data::open_dataset("fashion-mnist");
  auto labels = want("fmnist/labels");
  ASSERT_EQ(ds->size(), 10000u);
  ASSERT_EQ(ds->class_names().size(), 10u);
  EXPECT_EQ(ds->class_names()[9], "Ankle boot");
  for (size_t i = 0; i < ds->size(); ++i) ASSERT_EQ(ds->label(i), labels[i].item<int64_t>()) << i;
  auto images = want("fmnist/images");
  for (int64_t i = 0; i < images.size(0); ++i)
    EXPECT_TRUE(torch::equal(ds->load(i), images[i].unsqueeze(0).to(torch::kFloat) / 255)) << i;
  EXPECT_EQ(data::open_dataset("fashion-mnist:test")->id(0), ds->id(0));
  EXPECT_EQ(data::open_dataset("fashion-mnist:train")->size(), 60000u);
  expect_mentions(error_of([] { data::open_dataset("fashion-mnist:val"); }), {"val", "fashion-mnist:test"});
}

// ---- preprocessing ----

model::InputSpec spec_of(const std::string& name) {
  auto s = want("pre/" + name + "/spec");
  model::InputSpec spec;
  spec.channels = s[0].item<int64_t>();
  spec.height = s[1].item<int64_t>();
  spec.width = s[2].item<int64_t>();
  spec.range_lo = s[3].item<double>();
  spec.range_hi = s[4].item<double>();
  auto mean = want("pre/" + name + "/mean"), std = want("pre/" + name + "/std");
  spec.mean.assign(mean.data_ptr<double>(), mean.data_ptr<double>() + mean.numel());
  spec.std.assign(std.data_ptr<double>(), std.data_ptr<double>() + std.numel());
  return spec;
}

TEST(DataPreprocess, EqualsTorchvision) {
  const std::vector<std::string> cases = {"downscale",
                                          "upscale",
                                          "crop_offset_half_to_even_0",
                                          "crop_offset_half_to_even_2",
                                          "grey_to_rgb",
                                          "rgb_to_grey",
                                          "range",
                                          "mean_std",
                                          "range_mean_std"};
  for (const auto& name : cases) {
    auto out = data::preprocess(want("pre/" + name + "/in"), spec_of(name));
    auto ref = want("pre/" + name + "/out");
    ASSERT_EQ(out.sizes(), ref.sizes()) << name;
    EXPECT_LE(tension::testing::max_rel_err(out, ref), 1e-5) << name;
  }
}

TEST(DataPreprocess, ToUnitRangeInvertsRangeAndNormalisation) {
  auto spec = spec_of("range_mean_std");
  auto unit = spec;
  unit.range_lo = 0, unit.range_hi = 1, unit.mean.clear(), unit.std.clear();
  auto x = want("pre/range_mean_std/in");
  auto back = model::to_unit_range(data::preprocess(x, spec).unsqueeze(0), spec);
  EXPECT_LE(tension::testing::max_rel_err(back, data::preprocess(x, unit).unsqueeze(0)), 1e-6);
}

TEST(DataPreprocess, BadSpecOrImageIsAnError) {
  model::InputSpec spec;
  spec.channels = 2;
  expect_mentions(error_of([&] { data::preprocess(torch::rand({3, 8, 8}), spec); }), {"channels"});
  spec.channels = 3;
  spec.mean = {0.5};
  spec.std = {0.5};
  expect_mentions(error_of([&] { data::preprocess(torch::rand({3, 8, 8}), spec); }), {"mean"});
  expect_mentions(error_of([] { data::preprocess(torch::rand({4, 8, 8}), model::InputSpec{}); }), {"C = 1 or 3"});
}

}  // namespace
