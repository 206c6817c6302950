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

namespace {

using Entry = int (*)(const uint8_t*, size_t);

const std::map<std::string, Entry>& targets() {
  static const std::map<std::string, Entry> all = {
      {"idx", tension::fuzz::fuzz_idx},           {"jpeg", tension::fuzz::fuzz_jpeg},
      {"image", tension::fuzz::fuzz_image},       {"pth", tension::fuzz::fuzz_pth},
      {"unpickle", tension::fuzz::fuzz_unpickle}, {"npy", tension::fuzz::fuzz_npy},
      {"feature", tension::fuzz::fuzz_feature},   {"tap", tension::fuzz::fuzz_tap},
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
    }
  }
}
