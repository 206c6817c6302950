// The bad-input corpus (tests/python/fixture_bad_inputs.py): files broken the ways files from strangers are, each
// run through the `tension` binary, which must exit with status 2 and a message naming the file and the problem
// (never a crash, a signal or output that looks complete), or, in a folder pass, record the item and go on.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "tension/core/sha256.h"
#include "tension/store/run_store.h"
#include "testing.h"

using namespace tension;
using tension::testing::cli_binary;
using tension::testing::run_command;
using tension::testing::temp_dir;
using tension::testing::testdata;
namespace fs = std::filesystem;

namespace {

std::string bad(const std::string& rel) { return testdata("bad_inputs/" + rel); }

struct Case {
  std::string args;                // after `tension`
  std::vector<std::string> words;  // each must be in the output
};

// Runs every case: exit status 2, every word in the message, and no "internal error".
// OUT in a case's arguments becomes a fresh folder of its own.
void expect_refused(const std::vector<Case>& cases) {
  int n = 0;
  for (auto c : cases) {
    for (size_t at; (at = c.args.find("OUT")) != std::string::npos;) {
      c.args.replace(at, 3, temp_dir("bad_inputs_out_" + std::to_string(n)));
    }
    ++n;
    std::string out;
    const int rc = run_command(cli_binary() + " " + c.args, &out);
    EXPECT_EQ(rc, 2) << c.args << "\n" << out;
    for (const auto& w : c.words) EXPECT_NE(out.find(w), std::string::npos) << c.args << ": no '" << w << "' in\n" << out;
    EXPECT_EQ(out.find("internal error"), std::string::npos) << c.args << "\n" << out;
    EXPECT_NE(out.find("tension: error: "), std::string::npos) << c.args << "\n" << out;
  }
}


}  // namespace

TEST(BadInputs, AFolderPassRecordsBadImagesAndGoesOn) {
  const std::string dir = temp_dir("bad_images");
  std::string out;
  ASSERT_EQ(run_command(cli_binary() + " attribute fmnist-cnn " + bad("images") + " -f conv3:5 -l relu2 --out " + dir,
                        &out),
            0)
      << out;
  const std::map<std::string, std::string> unreadable = {{"empty.png", "the file is empty"},
                                                         {"truncated.png", "corrupt"},
                                                         {"truncated.jpg", "truncated JPEG"},
                                                         {"text.jpg", "not a recognised image format"},
                                                         {"bomb.png", "decompression bomb"}};
  auto st = store::RunStore::open(dir);
  size_t readable = 0;
  for (const auto& im : st->images()) {
    const std::string name = fs::path(im.id).filename().string();
    auto it = unreadable.find(name);
    if (it == unreadable.end()) {
      EXPECT_EQ(im.error, "") << name << " (1x1, grey, RGB, 16-bit, palette and CMYK images are read)";
      ++readable;
    } else {
      EXPECT_NE(im.error.find(it->second), std::string::npos) << name << ": " << im.error;
      EXPECT_NE(im.error.find(name), std::string::npos) << name << ": " << im.error;
    }
  }
  EXPECT_EQ(readable, 9u);
  EXPECT_EQ(st->count_attributions(), 9);
  nlohmann::json doc;
  std::ifstream(dir + "/run.json") >> doc;
  EXPECT_EQ(doc["results"]["unreadable"], 5);
  EXPECT_EQ(doc["status"], "ok");
}

TEST(BadInputs, IdxFilesModelsFeaturesAndLayers) {
  const std::string out = "OUT";
  const std::string pass = " -f conv3:5 -l relu2 --out " + out;
  const std::string ts = " --input-size 28 --channels 1 ";
  expect_refused({
      {"attribute fmnist-cnn " + bad("idx/magic-images-idx3-ubyte") + pass, {"magic-images-idx3-ubyte", "bad magic"}},
      {"attribute fmnist-cnn " + bad("idx/overflow-images-idx3-ubyte") + pass,
       {"overflow-images-idx3-ubyte", "impossibly large"}},
      {"attribute fmnist-cnn " + bad("idx/short-images-idx3-ubyte") + pass, {"short-images-idx3-ubyte", "truncated"}},
      {"attribute fmnist-cnn " + bad("idx/mismatch-images-idx3-ubyte") + pass,
       {"mismatch-labels-idx1-ubyte", "does not match"}},
      {"attribute " + bad("models/empty.pt") + " " + bad("images") + ts + "-f conv:0 -l input --out " + out,
       {"empty.pt", "not a TorchScript archive"}},
      {"attribute " + bad("models/two_inputs.pt") + " " + bad("images") + ts + "-f conv:0 -l input --out " + out,
       {"two_inputs.pt", "exactly one argument"}},
      {"eval " + bad("models/tuple.pt") + " " + bad("images") + ts, {"tuple.pt", "not class scores"}},
      {"attribute " + bad("models/fixed28.pt") + " " + bad("images") + " --input-size 32 --channels 1 -f 3:0 -l 1 "
       "--out " + out,
       {"fixed28.pt", "failed on an input of shape [1, 1, 32, 32]"}},
      {"attribute fmnist-cnn --weights " + bad("models/renamed_key.pth") + " " + bad("images") + pass,
       {"renamed_key.pth", "missing keys: conv2.weight"}},
      {"attribute fmnist-cnn --weights " + bad("models/wrong_shape.pth") + " " + bad("images") + pass,
       {"wrong_shape.pth", "'conv3.weight' has shape [64, 32, 5, 5] in the file but [64, 32, 3, 3]"}},
      {"attribute fmnist-cnn " + bad("images") + " -f conv9:5 -l relu2 --out " + out,
       {"unknown layer 'conv9'", "valid layers: conv1 relu1"}},
      {"attribute fmnist-cnn " + bad("images") + " -f conv3:5 -l relu9 --out " + out, {"unknown layer 'relu9'"}},
      {"attribute fmnist-cnn " + bad("images") + " -f conv3:64 -l relu2 --out " + out,
       {"unit 64 outside layer conv3 (64 channels)"}},
      {"attribute fmnist-cnn " + bad("images") + " -f conv3:-1 -l relu2 --out " + out, {"malformed feature 'conv3:-1'"}},
      {"attribute fmnist-cnn " + bad("images") + " -f conv3:5@20,3 -l relu2 --out " + out,
       {"position @20,3 is outside the layer's 14x14 map"}},
      {"attribute fmnist-cnn " + bad("images") + " -f conv3:@" + bad("npy/narrow.npy") + "#0 -l relu2 --out " + out,
       {"narrow.npy", "direction has 63 entries, layer conv3 has 64 channels"}},
      {"attribute fmnist-cnn " + bad("images") + " -f conv3:@" + bad("npy/missing.npy") + "#0 -l relu2 --out " + out,
       {"missing.npy"}},
      {"attribute fmnist-cnn " + bad("images") + " -f conv3:5 -f conv3:5 -l relu2 --out " + out,
       {"feature conv3:5 is given twice"}},
      {"attribute fmnist-cnn " + bad("images") + " -f conv3:5 -l relu2 -l relu2 --out " + out,
       {"attribution layer relu2 is given twice"}},
  });
}

// Commands that read a run, on what is not a sound run: a clear error naming the run, and the file left as it is.
TEST(BadInputs, DamagedOrForeignRunsAreRefusedAndLeftAlone) {
  const std::string run = temp_dir("bad_runs_source");
  std::string out;
  ASSERT_EQ(run_command(cli_binary() + " attribute fmnist-cnn fashion-mnist:test --limit 64 -f conv3:5 -l relu2 --out " +
                            run,
                        &out),
            0)
      << out;
  const std::string schema = temp_dir("bad_runs_schema"), truncated = temp_dir("bad_runs_truncated"),
                    corrupt = temp_dir("bad_runs_corrupt");
  for (const auto& dir : {schema, truncated, corrupt}) {
    fs::copy(run, dir, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  }
  ASSERT_EQ(run_command("sqlite3 " + schema +
                            "/store.sqlite \"INSERT OR REPLACE INTO meta (key, value) VALUES ('schema', '99')\"",
                        &out),
            0)
      << out;
  fs::resize_file(truncated + "/store.sqlite", fs::file_size(truncated + "/store.sqlite") / 2);
  {
    const std::string db = corrupt + "/store.sqlite";
    std::fstream f(db, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(db) / 3));
    const std::string garbage(8192, '\x5a');
    f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  const std::map<std::string, std::vector<std::string>> runs = {
      {bad("runs/not-a-run"), {"no run store in", "not-a-run"}},
      {schema, {"written with store schema 99", "this tension reads schema 1"}},
      {truncated, {"store.sqlite", "malformed", "the file is damaged"}},
      {corrupt, {"store.sqlite", "malformed", "the file is damaged"}},
  };
  for (const auto& [dir, words] : runs) {
    const std::string db = dir + "/store.sqlite";
    const std::string before = fs::exists(db) ? sha256_file(db) : "";
    std::vector<Case> cases = {{"select " + dir + " --rule mei -k 3 --out OUT", words},
                               {"export " + dir + " --csv OUT/rows.csv", words},
                               {"atlas " + dir + " --out OUT", words}};
    expect_refused(cases);
    if (!before.empty()) {
      EXPECT_EQ(sha256_file(db), before) << dir << " was changed";
    }
  }
}
