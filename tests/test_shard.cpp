// Sharded passes for clusters without MPI (issue 19): `tension attribute --shard I/N` attributes every N-th batch
// into its own run folder, `tension merge` joins the parts into the store one pass would have written, and refuses
// parts that do not make one pass.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tension/store/run_store.h"
#include "testing.h"

using namespace tension;
using tension::testing::cli_binary;
using tension::testing::read_json;
using tension::testing::run_command;
using tension::testing::temp_dir;

namespace {

const std::string kPass = " attribute fmnist-cnn fashion-mnist:test --limit 3000 --batch-size 16 -f conv3:1 "
                          "-f conv3:7 -l relu2 -l input";

std::string attribute(const std::string& out, const std::string& shard = "") {
  return cli_binary() + kPass + (shard.empty() ? "" : " --shard " + shard) + " --out " + out;
}

size_t stored(const std::string& run) {
  try {
    return store::RunStore::open(run)->stored_images().size();
  } catch (const Error&) {
    return 0;  // killed before its store was made
  }
}

// The message of a command that must fail.
std::string failure(const std::string& cmd) {
  std::string out;
  EXPECT_NE(run_command(cmd, &out), 0) << cmd;
  return out;
}

}  // namespace

// Three shards, one of them killed mid-pass and resumed, merge into exactly the rows and images of one pass. Each
// shard holds exactly its batches: 16 images at a time, dealt round-robin.
TEST(Shard, ShardsMergeIntoTheStoreOfOnePass) {
  const std::string dir = temp_dir("shard_merge");
  std::string out;
  ASSERT_EQ(run_command(attribute(dir + "/whole"), &out), 0) << out;
  ASSERT_EQ(run_command(attribute(dir + "/s0", "0/3"), &out), 0) << out;
  ASSERT_EQ(run_command(attribute(dir + "/s1", "1/3"), &out), 0) << out;
  bool partial = false;
  for (double t : {1.0, 1.4, 1.8, 2.3, 2.9, 3.5}) {
    run_command("timeout -s KILL " + std::to_string(t) + " " + attribute(dir + "/s2", "2/3"));
    const size_t n = stored(dir + "/s2");
    if (n > 0 && n < 1000) {
      partial = true;
      break;
    }
    std::filesystem::remove_all(dir + "/s2");
  }
  EXPECT_TRUE(partial) << "no kill landed mid-pass: the resume was not tested";
  ASSERT_EQ(run_command(attribute(dir + "/s2", "2/3"), &out), 0) << out;

  for (int k = 0; k < 3; ++k) {
    auto images = store::RunStore::open(dir + "/s" + std::to_string(k))->stored_images();
    size_t expected = 0;
    for (int64_t i = 0; i < 3000; ++i) expected += (i / 16) % 3 == k;
    EXPECT_EQ(images.size(), expected) << "shard " << k;
    for (int64_t i : images) ASSERT_EQ((i / 16) % 3, k) << "image " << i << " in shard " << k;
  }
  ASSERT_EQ(run_command(cli_binary() + " merge " + dir + "/merged " + dir + "/s0 " + dir + "/s1 " + dir + "/s2", &out),
            0)
      << out;
  tension::testing::expect_same_store(dir + "/whole", dir + "/merged");
  const auto res = read_json(dir + "/merged/run.json")["results"];
  EXPECT_EQ(res["gaps"]["images"].get<size_t>(), 0u);
  EXPECT_EQ(res["overlaps"]["images"].get<size_t>(), 0u);
  EXPECT_EQ(res["rows"].get<size_t>(), 12000u);
  // The merged run reads as any run: select runs on it.
  ASSERT_EQ(run_command(cli_binary() + " select " + dir + "/merged -r mei -k 3 --page-points 20", &out), 0) << out;
}

// Parts that do not make one pass are refused with what is wrong, before anything is written; --report merges what
// there is and lists the gaps.
TEST(Shard, MergeRefusesPartsOfAnotherPassGapsAndOverlaps) {
  const std::string dir = temp_dir("shard_refuse");
  std::string out;
  const std::string small = " attribute fmnist-cnn fashion-mnist:test --limit 200 --batch-size 16 -f conv3:1 -l relu2";
  for (const std::string part : {"0/2", "1/2"}) {
    ASSERT_EQ(run_command(cli_binary() + small + " --shard " + part + " --out " + dir + "/p" + part.substr(0, 1), &out),
              0)
        << out;
  }
  ASSERT_EQ(run_command(cli_binary() + small + " --shard 1/2 --out " + dir + "/again1", &out), 0) << out;
  ASSERT_EQ(run_command(cli_binary() + small + " -f conv3:2 --shard 1/2 --out " + dir + "/other", &out), 0) << out;
  ASSERT_EQ(run_command(cli_binary() + small + " --shard 1/3 --out " + dir + "/third", &out), 0) << out;
  ASSERT_EQ(run_command(cli_binary() + small + " --out " + dir + "/whole", &out), 0) << out;
  const std::string merge = cli_binary() + " merge " + dir + "/m ";

  auto msg = failure(merge + dir + "/p0 " + dir + "/other");
  EXPECT_NE(msg.find("another configuration"), std::string::npos) << msg;
  EXPECT_NE(msg.find("conv3:2"), std::string::npos) << msg;
  msg = failure(merge + dir + "/p0 " + dir + "/third");
  EXPECT_NE(msg.find("share N"), std::string::npos) << msg;
  msg = failure(merge + dir + "/p0");
  EXPECT_NE(msg.find("96 images (16, 17, 18"), std::string::npos) << msg;  // batches 1, 3, ... of 16: part 1/2
  EXPECT_NE(msg.find("in no shard"), std::string::npos) << msg;
  msg = failure(merge + dir + "/p0 " + dir + "/p1 " + dir + "/again1");
  EXPECT_NE(msg.find("in two shards"), std::string::npos) << msg;
  msg = failure(merge + dir + "/p0 " + dir + "/whole");
  EXPECT_NE(msg.find("is not a shard"), std::string::npos) << msg;
  msg = failure(merge + dir + "/p0 " + dir + "/p0");
  EXPECT_NE(msg.find("given twice"), std::string::npos) << msg;
  EXPECT_FALSE(std::filesystem::exists(dir + "/m/store.sqlite")) << "a refused merge wrote a store";
  for (const std::string bad : {"3/3", "1/0", "a/b", "-1/3", "2"}) {
    msg = failure(cli_binary() + small + " --shard " + bad + " --out " + dir + "/bad");
    EXPECT_NE(msg.find("--shard '" + bad + "'"), std::string::npos) << msg;
  }

  ASSERT_EQ(run_command(merge + dir + "/p0 --report", &out), 0) << out;
  const auto res = read_json(dir + "/m/run.json")["results"];
  EXPECT_EQ(res["gaps"]["images"].get<size_t>(), 96u);
  EXPECT_EQ(res["gaps"]["first"][0].get<int64_t>(), 16);
  EXPECT_EQ(res["images"].get<size_t>(), 104u);
}
