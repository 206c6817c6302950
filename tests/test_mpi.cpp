// Passes shared by the ranks of an MPI job (issue 19): `mpirun -n P tension attribute ...` writes the store one
// process writes, whatever P, on the default model and on a TorchScript model with unreadable images; a job with a
// rank killed mid-pass is finished by a job of another size, or by one plain process, with nothing lost or twice;
// an error on one rank ends the job instead of leaving the others waiting. Real Open MPI processes: mpirun from
// Debian's openmpi-bin, as root in CI (hence the two OMPI_ALLOW_RUN_AS_ROOT variables).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "tension/store/run_store.h"
#include "testing.h"

using namespace tension;
using tension::testing::cli_binary;
using tension::testing::expect_same_store;
using tension::testing::read_json;
using tension::testing::run_command;
using tension::testing::temp_dir;
using tension::testing::testdata;

namespace {

namespace fs = std::filesystem;

const std::string kPass = " attribute fmnist-cnn fashion-mnist:test --limit 1500 --batch-size 16 -f conv3:1 "
                          "-f conv3:7 -l relu2 -l input";

// `tension ARGS` on P ranks of one job on this machine (more ranks than cores: --oversubscribe), ended by timeout
// (exit 124) if it ever hangs. Under `make sanitize` the ranks unwind every allocation's whole stack: Open MPI's
// libraries have no frame pointers, and LeakSanitizer can match what they keep past MPI_Finalize to its
// suppressions only by the module in the stack (tests/sanitizers/lsan.supp). Without AddressSanitizer the variable
// is read by nobody.
std::string on_ranks(int p, const std::string& args) {
  return "ASAN_OPTIONS=\"$ASAN_OPTIONS:fast_unwind_on_malloc=0\" OMPI_ALLOW_RUN_AS_ROOT=1 "
         "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 timeout 300 mpirun --oversubscribe --bind-to none -n " +
         std::to_string(p) + " " + cli_binary() + " --threads 1" + args;
}

std::string plain(const std::string& args) { return cli_binary() + args; }

// Starts `args` on P ranks and SIGKILLs rank `victim` (every rank: -1) once its new store (rank 0's for -1) holds a
// batch; returns the job's exit status (non-zero: mpirun ends the job when a rank dies). When an earlier job left rank
// stores, it waits for rank 0 to fold them in first: until then the old stores are there to be seen.
int kill_rank_mid_pass(int p, int victim, const std::string& args, const std::string& run, std::string* out) {
  const std::string rank_store = run + "/ranks/" + std::to_string(std::max(victim, 0)) + "/store.sqlite";
  const std::string which = victim < 0 ? "grep -q '^OMPI_COMM_WORLD_RANK='"
                                       : "grep -qx OMPI_COMM_WORLD_RANK=" + std::to_string(victim);
  const std::string dir = fs::path(run).parent_path().string(), log = dir + "/job.log";
  const bool leftovers = fs::is_directory(run + "/ranks");
  std::ofstream(dir + "/kill_rank.sh")
      << on_ranks(p, args) << " > " << log << " 2>&1 & job=$!\n"
      << "for i in $(seq 600); do\n"
      << "  sleep 0.05\n"
      << (leftovers ? "  grep -q 'rank stores folded in' " + log + " || continue\n" : "")
      << "  n=$(sqlite3 " << rank_store << " 'SELECT count(*) FROM images' 2>/dev/null)\n"
      << "  [ \"${n:-0}\" -gt 0 ] && break\n"
      << "done\n"
      << "for pid in $(pgrep -f -- '--out " << run << "'); do\n"
      << "  tr '\\0' '\\n' < /proc/$pid/environ 2>/dev/null | " << which << " && kill -KILL $pid\n"
      << "done\n"
      << "wait $job; rc=$?; cat " << log << "; exit $rc\n";
  return run_command("bash " + dir + "/kill_rank.sh", out);
}

// Images stored so far in the run and in the rank stores a killed job left.
size_t images_held(const std::string& run) {
  size_t n = 0;
  if (fs::exists(run + "/store.sqlite")) n += store::RunStore::open(run)->stored_images().size();
  if (fs::is_directory(run + "/ranks")) {
    for (const auto& e : fs::directory_iterator(run + "/ranks")) {
      if (fs::exists(e.path() / "store.sqlite")) n += store::RunStore::open(e.path().string())->stored_images().size();
    }
  }
  return n;
}

}  // namespace

// One, two and three ranks write the store of one plain process, row for row; rank 0 draws one progress bar for
// the whole job, and the rank stores are gone once the job has folded them in.
TEST(Mpi, OneTwoAndThreeRanksWriteTheStoreOfOneProcess) {
  const std::string dir = temp_dir("mpi_ranks");
  std::string out;
  ASSERT_EQ(run_command(plain(kPass + " --out " + dir + "/plain"), &out), 0) << out;
  for (int p : {1, 2, 3}) {
    const std::string run = dir + "/p" + std::to_string(p);
    ASSERT_EQ(run_command(on_ranks(p, kPass + " --out " + run), &out), 0) << out;
    expect_same_store(dir + "/plain", run);
    EXPECT_FALSE(fs::exists(run + "/ranks")) << "rank stores left behind in " << run;
    const auto res = read_json(run + "/run.json")["results"];
    EXPECT_EQ(res["ranks"].get<int>(), p);
    EXPECT_EQ(res["processed"].get<size_t>(), 1500u);
    EXPECT_EQ(res["rows"].get<size_t>(), 1500u * 4);
    EXPECT_EQ(read_json(run + "/run.json")["status"], "ok");
    // One bar for the job's 1500 images, from rank 0 alone (a log line per tenth without a terminal).
    size_t finished = 0;
    for (size_t at = out.find("attribute 100%"); at != std::string::npos; at = out.find("attribute 100%", at + 1)) {
      ++finished;
      EXPECT_EQ(out.compare(at, 29, "attribute 100% 1500/1500 img "), 0) << out.substr(at, 60);
    }
    EXPECT_EQ(finished, 1u) << out;
  }
}

// A traced TorchScript model over an image folder with five unreadable files: three ranks store what one process
// stores, each unreadable image recorded once, with its reason.
TEST(Mpi, TorchScriptModelAndUnreadableImagesOnThreeRanks) {
  const std::string dir = temp_dir("mpi_torchscript");
  const std::string pass = " attribute " + testdata("attribution/net.pt") + " " + testdata("bad_inputs/images") +
                           " --input-size 24 --channels 3 -f conv4:2 -f conv4:7 -l relu1 -l relu3 --batch-size 2";
  std::string out;
  ASSERT_EQ(run_command(plain(pass + " --out " + dir + "/plain"), &out), 0) << out;
  ASSERT_EQ(run_command(on_ranks(3, pass + " --out " + dir + "/job"), &out), 0) << out;
  expect_same_store(dir + "/plain", dir + "/job");
  size_t unreadable = 0;
  for (const auto& im : store::RunStore::open(dir + "/job")->images()) unreadable += !im.error.empty();
  EXPECT_EQ(unreadable, 5u);
  const auto res = read_json(dir + "/job/run.json")["results"];
  EXPECT_EQ(res["unreadable"].get<size_t>(), 5u);
  EXPECT_EQ(res["processed"].get<size_t>(), 9u);
}

// A two-rank job loses rank 1 to SIGKILL mid-pass; a three-rank job resumes it and loses rank 2; a two-rank job
// loses every rank at once; one plain process finishes it. The store equals an uninterrupted pass: nothing lost,
// nothing twice.
TEST(Mpi, KilledRanksResumedWithOtherRankCountsEndAsOnePass) {
  const std::string dir = temp_dir("mpi_killed");
  const std::string run = dir + "/run";
  std::string out;
  ASSERT_EQ(run_command(plain(kPass + " --out " + dir + "/plain"), &out), 0) << out;

  EXPECT_NE(kill_rank_mid_pass(2, 1, kPass + " --out " + run, run, &out), 0) << out;
  const size_t after_first = images_held(run);
  EXPECT_GT(after_first, 0u) << out;
  EXPECT_LT(after_first, 1500u) << "the kill landed after the pass: the resume was not tested\n" << out;
  EXPECT_TRUE(fs::is_directory(run + "/ranks")) << out;

  EXPECT_NE(kill_rank_mid_pass(3, 2, kPass + " --out " + run, run, &out), 0) << out;
  const size_t after_second = images_held(run);
  EXPECT_GT(after_second, after_first) << out;
  EXPECT_LT(after_second, 1500u) << "the second kill landed after the pass\n" << out;

  EXPECT_NE(kill_rank_mid_pass(2, -1, kPass + " --out " + run, run, &out), 0) << out;  // every rank at once
  const size_t after_third = images_held(run);
  EXPECT_GT(after_third, after_second) << out;
  EXPECT_LT(after_third, 1500u) << "the third kill landed after the pass\n" << out;

  ASSERT_EQ(run_command(plain(kPass + " --out " + run), &out), 0) << out;
  EXPECT_NE(out.find("rank stores folded in"), std::string::npos) << out;
  expect_same_store(dir + "/plain", run);
  EXPECT_FALSE(fs::exists(run + "/ranks"));
  EXPECT_EQ(read_json(run + "/run.json")["results"]["already_stored"].get<size_t>(), after_third);
}

// The contents of a file, to compare outputs byte for byte.
std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// `tension atlas` on three ranks: the second attribution pass and the icon batches are shared, and the outputs equal
// a single process's byte for byte (batch b of icons keeps seed + b whichever rank renders it).
TEST(Mpi, AtlasSecondPassAndIconsOnThreeRanks) {
  const std::string dir = temp_dir("mpi_atlas");
  std::string out;
  ASSERT_EQ(run_command(plain(" attribute fmnist-cnn fashion-mnist:test --feature conv3:40 --layer relu2 --limit 600 "
                              "--keep-channels --out " + dir + "/run"), &out), 0) << out;
  const std::string atlas = " atlas " + dir + "/run --images 300 --grid 5 --icon-steps 40 --icon-batch 2 --icon-px 24 "
                            "--top-images 3 --out ";
  ASSERT_EQ(run_command(plain(atlas + dir + "/plain"), &out), 0) << out;
  ASSERT_EQ(run_command(on_ranks(3, atlas + dir + "/job"), &out), 0) << out;
  for (const char* f : {"vectors.npy", "images.npy", "layout.npy", "cells.csv", "layout.csv", "atlas.png"}) {
    EXPECT_EQ(bytes_of(dir + "/plain/" + f), bytes_of(dir + "/job/" + f)) << f;
  }
  const auto a = read_json(dir + "/plain/run.json")["results"]["atlas"];
  const auto b = read_json(dir + "/job/run.json")["results"]["atlas"];
  EXPECT_EQ(a["icons"], b["icons"]);
  EXPECT_EQ(a["icon_batches_rendered"], b["icon_batches_rendered"]);
  // Each rank rendered its share: batches 0, 3, 6, ... on rank 0, and so on.
  const size_t batches = b["icon_batches_rendered"].get<size_t>();
  const std::string share = std::to_string((batches + 2) / 3) + " " + std::to_string((batches + 1) / 3) + " " +
                            std::to_string(batches / 3);
  EXPECT_NE(out.find("icon batches rendered by rank: " + share), std::string::npos) << share << "\n" << out;
}

// The uniqueness experiment on three ranks, both families: the k-means sampling pass and the attribution pass are
// shared, the k-means and the selections are rank 0's, and every table equals a single process's.
TEST(Mpi, KMeansSamplingAndUniquenessOnThreeRanks) {
  const std::string dir = temp_dir("mpi_uniqueness");
  const std::string cmd = " uniqueness " + testdata("uniqueness/diagonal.pt") + " " +
                          testdata("uniqueness/gt-images-idx3-ubyte") +
                          " --input-size 16 --channels 1 --layers relu2 -n 15 -m 5 --features units,kmeans "
                          "--kmeans-k 20 --selectors mei,l1 --shared-min 15 --no-crop-figures --batch-size 8 --out ";
  std::string out;
  ASSERT_EQ(run_command(plain(cmd + dir + "/plain"), &out), 0) << out;
  ASSERT_EQ(run_command(on_ranks(3, cmd + dir + "/job"), &out), 0) << out;
  for (const char* f : {"uniqueness.csv", "shared.csv", "relu2/kmeans/directions.npy", "relu2/kmeans/centroids.npy"}) {
    EXPECT_EQ(bytes_of(dir + "/plain/" + f), bytes_of(dir + "/job/" + f)) << f;
  }
  EXPECT_EQ(store::RunStore::open(dir + "/job/relu2/attribution")->count_attributions(), 122 * 30);
  EXPECT_EQ(read_json(dir + "/job/relu2/kmeans/run.json")["results"]["vectors"].get<int64_t>(), 122);
  EXPECT_EQ(read_json(dir + "/job/run.json")["status"], "ok");
}

// An error on one rank (rank 0 finds the run holds another configuration, while the others wait for its plan) ends
// the whole job with the error, never a hang; --shard, and commands that do not share their work, are refused
// under a launcher.
TEST(Mpi, AnErrorOnOneRankEndsTheJob) {
  const std::string dir = temp_dir("mpi_errors");
  const std::string small = " attribute fmnist-cnn fashion-mnist:test --limit 64 --batch-size 16 -f conv3:1 -l relu2";
  std::string out;
  ASSERT_EQ(run_command(plain(small + " --out " + dir + "/run"), &out), 0) << out;
  int rc = run_command(on_ranks(3, small + " -f conv3:2 --out " + dir + "/run"), &out);
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(rc, 124) << "the job hung\n" << out;
  EXPECT_NE(out.find("tension[rank 0]: error:"), std::string::npos) << out;
  EXPECT_NE(out.find("conv3:2"), std::string::npos) << out;

  rc = run_command(on_ranks(2, small + " --shard 0/2 --out " + dir + "/shard"), &out);
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(rc, 124) << "the job hung\n" << out;
  EXPECT_NE(out.find("--shard is for machines without MPI"), std::string::npos) << out;

  // Commands that do not share their work would run whole on every rank, each writing the same files.
  rc = run_command(on_ranks(2, " select " + dir + "/run -r mei -k 3 --out " + dir + "/select"), &out);
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(out.find("tension select does not share its work among MPI ranks"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir + "/select/selection.csv"));
}
