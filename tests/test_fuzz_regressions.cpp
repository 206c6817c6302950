// Replays the fuzz targets' seeds (fuzz/corpus/T) and every input that once crashed, hung or exhausted memory
// (fuzz/regressions/T) through the entry functions libFuzzer drives (fuzz/fuzz_targets.h), without libFuzzer:
// no input may crash, and each regression must now be refused with a tension::Error.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <vector>

#include "../fuzz/fuzz_targets.h"
#include "testing.h"

namespace fs = std::filesystem;
using tension::fuzz::last_refusal;
using tension::testing::source_dir;

namespace {

using Entry = int (*)(const uint8_t*, size_t);

const std::map<std::string, Entry>& targets() {
  static const std::map<std::string, Entry> all = {
      {"idx", tension::fuzz::fuzz_idx},
      {"jpeg", tension::fuzz::fuzz_jpeg},
      {"image", tension::fuzz::fuzz_image},
      {"pth", tension::fuzz::fuzz_pth},
      {"unpickle", tension::fuzz::fuzz_unpickle},
      {"npy", tension::fuzz::fuzz_npy},
      {"feature", tension::fuzz::fuzz_feature},
      {"tap", tension::fuzz::fuzz_tap},
      {"run_store", tension::fuzz::fuzz_run_store},
  };
  return all;
}

std::vector<fs::path> files_in(const std::string& dir) {
  std::vector<fs::path> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<uint8_t> bytes_of(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// What each fixed input is now refused with (docs/hardening.md "Fuzzing"); a new input need only be refused.
const std::map<std::string, std::string>& expected_refusals() {
  static const std::map<std::string, std::string> words = {
      {"feature/crash-stoll-out-of-range", "is out of range"},
      {"feature/stack-overflow-100000-char-layer.txt", "at most 4096"},
      {"feature/stack-overflow-50000-digit-unit.txt", "at most 4096"},
      {"image/bomb-20000x20000.png", "decompression bomb"},
      {"image/bomb-65000x65000.jpg", "decompression bomb"},
      {"image/oom-garbage-before-sof.jpg", "decompression bomb"},
      {"npy/oom-header-length", "unsupported .npy version"},
      {"npy/shape-beyond-data.npy", "truncated .npy data"},
      {"npy/shape-overflow.npy", "is out of range"},
      {"npy/stack-overflow-header-60000.npy", "at most 10000"},
      {"npy/version-9.npy", "unsupported .npy version"},
      {"run_store/config-not-json.sqlite", "is not valid JSON"},
      {"run_store/leak-not-a-database", "store.sqlite: database disk image is malformed"},
      {"unpickle/leak-list-holds-itself.pkl", "is a list, not a tensor"},
      {"unpickle/stack-overflow-30000-nested-lists.pkl", "is a list, not a tensor"},
      {"unpickle/storage-numel-negative.pkl", "negative size"},
      {"unpickle/storage-numel-wraps.pkl", "is truncated"},
  };
  return words;
}

}  // namespace

TEST(FuzzRegressions, EverySeedParsesOrIsRefused) {
  size_t seeds = 0;
  for (const auto& [name, entry] : targets()) {
    auto files = files_in(source_dir("fuzz/corpus/" + name));
    EXPECT_FALSE(files.empty()) << "no seeds for fuzz target " << name;
    for (const auto& f : files) {
      auto b = bytes_of(f);
      int result = entry(b.data(), b.size());
      EXPECT_TRUE(result == 0 || result == 1) << f;
      ++seeds;
    }
  }
  EXPECT_GT(seeds, 50u);
}

TEST(FuzzRegressions, EveryFoundInputIsRefused) {
  size_t checked = 0;
  for (const auto& [name, entry] : targets()) {
    for (const auto& f : files_in(source_dir("fuzz/regressions/" + name))) {
      auto b = bytes_of(f);
      // The JPEG walker answers complete or not; every other parser must refuse the input with a message.
      if (name == "jpeg") {
        entry(b.data(), b.size());
        continue;
      }
      EXPECT_EQ(entry(b.data(), b.size()), 1) << f << " was accepted";
      EXPECT_FALSE(last_refusal().empty()) << f;
      auto words = expected_refusals().find(name + "/" + f.filename().string());
      if (words != expected_refusals().end()) {
        EXPECT_NE(last_refusal().find(words->second), std::string::npos) << f << ": " << last_refusal();
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, expected_refusals().size()) << "a listed regression input is missing";
}
