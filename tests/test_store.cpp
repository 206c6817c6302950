// The run store: round trips, configuration checks, resuming after SIGKILL, and exports read by Python.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "tension/core/error.h"
#include "tension/core/json.h"
#include "tension/core/manifest.h"
#include "tension/model/model.h"
#include "tension/store/attribute_run.h"
#include "tension/store/export.h"
#include "tension/store/run_inputs.h"
#include "tension/store/run_store.h"
#include "testing.h"

using namespace tension;
using tension::testing::cli_binary;
using tension::testing::run_command;
using tension::testing::read_csv;
using tension::testing::read_json;
using tension::testing::temp_dir;

namespace {

nlohmann::json config() { return {{"features", {"conv2:3"}}, {"layers", {"relu1"}}}; }

store::AttributionRecord record(int64_t image, double fv) {
  store::AttributionRecord r;
  r.image = image;
  r.feature = 0;
  r.layer = 0;
  r.fv = fv;
  r.e = fv;
  r.e_pos = fv + 1;
  r.e_neg = 1;
  r.phi_pos = {1.f, 2.f};
  r.phi_neg = {0.f, 1.f};
  return r;
}

std::string attribute_cmd(const std::string& out) {
  return cli_binary() +
         " --threads 1 attribute fmnist-cnn --weights random --seed 4 fashion-mnist:test --limit 3000 "
         "--batch-size 8 -f conv3:5 -f fc1:2 -l relu1 -l relu2 --keep-channels --out " + out;
}

}  // namespace

TEST(RunStore, WritesReadsAndReplacesWithoutDuplicates) {
  auto dir = temp_dir("store_roundtrip");
  auto st = store::RunStore::open_for_writing(dir, config());
  st->write_chunk({{0, "a.png", 3, ""}, {1, "b.png", -1, "cannot decode"}}, {record(0, 0.5)});
  st->write_chunk({{0, "a.png", 3, ""}}, {record(0, 0.75)});  // a resumed pass redoing image 0
  EXPECT_EQ(st->stored_images(), (std::vector<int64_t>{0, 1}));
  auto rows = st->attributions(true);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].fv, 0.75);
  EXPECT_EQ(rows[0].phi_pos, (std::vector<float>{1.f, 2.f}));
  auto images = st->images();
  EXPECT_EQ(images[1].error, "cannot decode");
  st.reset();
  auto again = store::RunStore::open(dir);
  EXPECT_EQ(again->config(), config());
  EXPECT_THROW(store::RunStore::open_for_writing(dir, {{"features", {"conv2:4"}}}), Error);
  EXPECT_THROW(store::RunStore::open(dir + "/nothing-here"), Error);
}

TEST(RunStore, KilledPassesResumeToExactlyTheCleanPass) {
  auto clean = temp_dir("store_clean"), killed = temp_dir("store_killed");
  std::string out;
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(run_command(attribute_cmd(clean), &out), 0) << out;
  // Kills within the clean pass's own duration, so that they land mid-pass on a slow or sanitized build too.
  const double whole = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::mt19937 rng(1234);
  std::uniform_real_distribution<double> when(0.3 * whole, 0.95 * whole);
  int partial = 0;  // kills that left some but not all images stored
  for (int attempt = 0; attempt < 10; ++attempt) {
    int rc = run_command("timeout -s KILL " + std::to_string(when(rng)) + " " + attribute_cmd(killed));
    if (rc == 0) continue;
    size_t n = 0;
    try {
      n = store::RunStore::open(killed)->stored_images().size();
    } catch (const Error&) {
      // killed before the store was created
    }
    partial += n > 0 && n < 3000;
  }
  ASSERT_EQ(run_command(attribute_cmd(killed), &out), 0) << out;
  EXPECT_GE(partial, 1) << "no pass was interrupted mid-way: the test proved nothing";
  auto a = store::RunStore::open(clean), b = store::RunStore::open(killed);
  auto ra = a->attributions(true), rb = b->attributions(true);
  ASSERT_EQ(ra.size(), 3000u * 2 * 2);
  ASSERT_EQ(rb.size(), ra.size());
  for (size_t i = 0; i < ra.size(); ++i) {
    ASSERT_EQ(ra[i].image, rb[i].image);
    ASSERT_EQ(ra[i].feature, rb[i].feature);
    ASSERT_EQ(ra[i].layer, rb[i].layer);
    EXPECT_NEAR(ra[i].fv, rb[i].fv, 1e-5 * (1 + std::abs(ra[i].fv)));
    EXPECT_NEAR(ra[i].e_pos, rb[i].e_pos, 1e-5 * (1 + std::abs(ra[i].e_pos)));
    EXPECT_EQ(ra[i].channels.size(), rb[i].channels.size());
  }
  EXPECT_EQ(a->images().size(), b->images().size());
}

TEST(RunStore, ExportsThatPythonReads) {
  auto dir = temp_dir("store_export");
  std::string out;
  ASSERT_EQ(run_command(cli_binary() + " attribute fmnist-cnn --weights random fashion-mnist:test --limit 40 "
                        "-f conv3:1 -l relu2 -l input --keep-channels --out " + dir, &out), 0) << out;
  ASSERT_EQ(run_command(cli_binary() + " export " + dir + " --csv " + dir + "/rows.csv --npy " + dir + "/npy",
                        &out), 0) << out;
  std::ifstream f(dir + "/rows.csv");
  std::string header;
  std::getline(f, header);
  EXPECT_EQ(header, "image_index,image,label,feature,layer,fv,E,E_pos,E_neg,L1,L2,L21");
  // Independent reads in Python: the CSV, the SQLite store with numpy blobs, and the .npy matrices agree.
  std::string py = R"(
import csv, sqlite3, sys, numpy as np
d = sys.argv[1]
rows = list(csv.DictReader(open(d + '/rows.csv')))
assert len(rows) == 40 * 2, len(rows)
for r in rows:
    assert abs(float(r['E']) - (float(r['E_pos']) - float(r['E_neg']))) <= 1e-4 * (1 + abs(float(r['E']))), r
db = sqlite3.connect(d + '/store.sqlite')
n = 0
for fv, e, pp, pn, ch in db.execute('SELECT fv, e, phi_pos, phi_neg, channels FROM attributions WHERE layer = 0'):
    pos, neg = np.frombuffer(pp, '<f4'), np.frombuffer(pn, '<f4')
    assert abs((pos.sum() - neg.sum()) - e) <= 1e-3 * (1 + abs(e)), (pos.sum() - neg.sum(), e)
    assert abs(np.frombuffer(ch, '<f4').sum() - e) <= 1e-3 * (1 + abs(e))
    n += 1
assert n == 40
idx = np.load(d + '/npy/image_index.npy'); chm = np.load(d + '/npy/channels_F0_L0.npy')
assert idx.tolist() == list(range(40)) and chm.shape[0] == 40, (idx, chm.shape)
assert np.allclose(chm.sum(1), np.load(d + '/npy/e_F0_L0.npy'), rtol=1e-3, atol=1e-4)
print('ok')
)";
  std::ofstream(dir + "/check.py") << py;
  EXPECT_EQ(run_command("/usr/bin/python3 " + dir + "/check.py " + dir, &out), 0) << out;
}

TEST(RunStore, ResumingWithOtherOptionsIsRefused) {
  auto dir = temp_dir("store_mismatch");
  std::string out;
  ASSERT_EQ(run_command(cli_binary() + " attribute fmnist-cnn --weights random fashion-mnist:test --limit 8 "
                        "-f conv3:1 -l relu2 --out " + dir, &out), 0) << out;
  EXPECT_EQ(run_command(cli_binary() + " attribute fmnist-cnn --weights random fashion-mnist:test --limit 8 "
                        "-f conv3:2 -l relu2 --out " + dir, &out), 2) << out;
  EXPECT_NE(out.find("another configuration"), std::string::npos) << out;
}

// A model as a run records it: optionals as null or their value, an existing file's path made absolute (a later
// command may run elsewhere), and read back into the same source.
TEST(ModelSource, RecordRoundTripsWithAbsolutePathsAndOptionals) {
  auto dir = temp_dir("model_source");
  std::ofstream(dir + "/w.pt") << "x";
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir);
  model::ModelSource s;
  s.spec = "fmnist-cnn";
  s.weights = "w.pt";
  s.seed = 7;
  s.input_size = 96;
  s.mean = {0.5, 0.25};
  nlohmann::json j = s;
  std::filesystem::current_path(cwd);
  EXPECT_EQ(j["weights_file"], dir + "/w.pt");
  EXPECT_EQ(j["input_size"], 96);
  EXPECT_TRUE(j["channels"].is_null());
  auto back = j.get<model::ModelSource>();
  EXPECT_EQ(back.spec, "fmnist-cnn");
  EXPECT_EQ(back.weights, dir + "/w.pt");
  EXPECT_EQ(back.seed, 7u);
  ASSERT_TRUE(back.input_size.has_value());
  EXPECT_EQ(*back.input_size, 96);
  EXPECT_FALSE(back.channels.has_value());
  EXPECT_EQ(back.mean, s.mean);
  EXPECT_THROW(nlohmann::json({{"seed", 1}}).get<model::ModelSource>(), Error);
}

// `tension attribute` as a library call: run.json's params are the options (read back, they are the same), and
// the run reopens with the very model and dataset it was made with.
TEST(AttributeRun, RecordsItsOptionsAndReopensItsInputs) {
  auto dir = temp_dir("attribute_run");
  store::AttributeOptions opt;
  opt.model.spec = "fmnist-cnn";
  opt.model.weights = "random";
  opt.model.seed = 4;
  opt.data = "fashion-mnist:test";
  opt.features = {"conv3:1", "fc1:2"};
  opt.layers = {"relu2"};
  opt.pass.limit = 6;
  opt.pass.batch_size = 4;
  RunManifest run(dir, "attribute", {"test"});
  store::attribute_run(opt, run);
  nlohmann::json doc;
  std::ifstream(dir + "/run.json") >> doc;
  auto params = doc["params"].get<store::AttributeOptions>();
  EXPECT_EQ(params.features, opt.features);
  EXPECT_EQ(params.layers, opt.layers);
  EXPECT_EQ(params.pass.limit, 6u);
  EXPECT_EQ(params.pass.batch_size, 4u);
  EXPECT_EQ(params.model.weights, "random");
  EXPECT_EQ(params.model.seed, 4u);
  EXPECT_EQ(doc["results"]["rows"], 6 * 2);

  auto in = store::open_run_inputs(dir);
  EXPECT_EQ(in.store->count_attributions(), 12);
  EXPECT_EQ(in.model->weights_id(), model::load_model(opt.model)->weights_id());
  EXPECT_EQ(store::run_feature_index(*in.store, "fc1:2"), 1u);
  EXPECT_THROW(store::run_layer_index(*in.store, "relu9"), Error);
}

// A model whose output is NaN: SQLite would store it as NULL, read back as 0. Images with a non-finite value are
// recorded as failed with the reason and get no rows; a model that is NaN everywhere is an error.
TEST(AttributeRun, NonFiniteValuesAreRecordedAsFailuresNotNumbers) {
  auto pass = [](const std::string& model, const std::string& dir) {
    store::AttributeOptions opt;
    opt.model.spec = tension::testing::testdata("bad_models/" + model);
    opt.model.input_size = 8;
    opt.model.channels = 1;
    opt.data = "synthetic:noise?n=24&size=8&channels=1&seed=3";
    opt.features = {"conv2:1"};
    opt.layers = {"relu1"};
    RunManifest run(dir, "attribute", {"test"});
    store::attribute_run(opt, run);
  };
  const std::string some = temp_dir("attribute_some_nan");
  pass("some_nan.pt", some);
  auto in = store::open_run_inputs(some);
  const auto& st = in.store;
  size_t failed = 0, finite = 0;
  std::set<int64_t> ok;
  for (const auto& im : st->images()) {
    // The model is NaN exactly where the image's mean pixel is above 0.5.
    const bool bright = in.data->load(static_cast<size_t>(im.index)).mean().item<double>() > 0.5;
    EXPECT_EQ(!im.error.empty(), bright) << im.id << " " << im.error;
    if (bright) {
      ++failed;
      EXPECT_NE(im.error.find("NaN or Inf"), std::string::npos) << im.error;
    } else {
      ++finite;
      ok.insert(im.index);
    }
  }
  EXPECT_GT(failed, 0u);
  EXPECT_GT(finite, 0u);
  const auto rows = st->attributions(false);
  EXPECT_EQ(rows.size(), finite);
  for (const auto& r : rows) {
    EXPECT_TRUE(ok.count(r.image)) << r.image;
    EXPECT_TRUE(std::isfinite(r.fv));
  }
  nlohmann::json doc;
  std::ifstream(some + "/run.json") >> doc;
  EXPECT_EQ(doc["results"]["non_finite"], failed);

  const std::string all = temp_dir("attribute_all_nan");
  const std::string msg = tension::testing::error_of([&] { pass("nan.pt", all); });
  EXPECT_NE(msg.find("every one of the 24 images attributed gave NaN or Inf"), std::string::npos) << msg;
}

// One writer per run: a second writer is refused while the first lives, in this process or another, and a writer
// killed with SIGKILL leaves no stale lock.
TEST(RunStore, ASecondWriterIsRefused) {
  const std::string dir = temp_dir("store_lock");
  {
    auto first = store::RunStore::open_for_writing(dir, config());
    const std::string msg = tension::testing::error_of([&] { store::RunStore::open_for_writing(dir, config()); });
    EXPECT_NE(msg.find("run " + dir + " is in use by another tension process (pid " + std::to_string(getpid())),
              std::string::npos)
        << msg;
    EXPECT_NO_THROW(store::RunStore::open(dir)) << "readers are not writers";
  }
  EXPECT_NO_THROW(store::RunStore::open_for_writing(dir, config())) << "released with the writer";

  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto held = store::RunStore::open_for_writing(dir, config());
    char c = 1;
    if (write(ready[1], &c, 1) != 1) _exit(1);
    pause();
    _exit(0);
  }
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  const std::string msg = tension::testing::error_of([&] { store::RunStore::open_for_writing(dir, config()); });
  EXPECT_NE(msg.find("(pid " + std::to_string(child) + ")"), std::string::npos) << msg;
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_NO_THROW(store::RunStore::open_for_writing(dir, config())) << "SIGKILL released the lock";
  close(ready[0]);
  close(ready[1]);
}

// SIGINT and SIGTERM mid-pass: the batch in hand is committed, the progress line finished, the exit status is
// 128 + the signal with a message that says so, run.json says "interrupted", and the same command resumes.
TEST(RunStore, SignalsStopAPassThatThenResumes) {
  for (int sig : {SIGINT, SIGTERM}) {
    const std::string dir = temp_dir("store_signal_" + std::to_string(sig)), err = dir + ".stderr";
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      const std::string cmd = "exec " + attribute_cmd(dir) + " 2>" + err;
      execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    size_t stored = 0;
    for (int i = 0; i < 1200 && stored == 0; ++i) {
      usleep(50 * 1000);
      try {
        stored = store::RunStore::open(dir)->stored_images().size();
      } catch (const Error&) {
        // not created yet
      }
    }
    ASSERT_GT(stored, 0u) << "the pass never stored a batch";
    kill(child, sig);
    int status = 0;
    waitpid(child, &status, 0);
    ASSERT_TRUE(WIFEXITED(status)) << "killed by a signal instead of stopping: " << status;
    EXPECT_EQ(WEXITSTATUS(status), 128 + sig);
    std::ifstream in(err);
    const std::string log((std::istreambuf_iterator<char>(in)), {});
    EXPECT_NE(log.find(std::string("tension: interrupted by ") + (sig == SIGINT ? "SIGINT" : "SIGTERM")),
              std::string::npos)
        << log;
    EXPECT_NE(log.find("run the same command to resume"), std::string::npos) << log;
    nlohmann::json doc;
    std::ifstream(dir + "/run.json") >> doc;
    EXPECT_EQ(doc["status"], "interrupted");
    const size_t after = store::RunStore::open(dir)->stored_images().size();
    EXPECT_LT(after, 3000u) << "the signal came after the pass ended: the test proved nothing";
    std::string out;
    ASSERT_EQ(run_command(attribute_cmd(dir), &out), 0) << out;
    auto st = store::RunStore::open(dir);
    EXPECT_EQ(st->stored_images().size(), 3000u);
    EXPECT_EQ(st->count_attributions(), 3000 * 2 * 2);
  }
}

// A disk that fills during a pass (a file size limit stands in for it): the pass stops with a clear error naming
// the store, the store stays intact, and once there is room the same command resumes to the clean pass's rows.
TEST(RunStore, AFullDiskStopsThePassWhichThenResumes) {
  auto clean = temp_dir("store_full_clean"), full = temp_dir("store_full");
  std::string out;
  ASSERT_EQ(run_command(attribute_cmd(clean), &out), 0) << out;
  const int rc = run_command("prlimit --fsize=8000000 " + attribute_cmd(full), &out);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("store.sqlite"), std::string::npos) << out;
  EXPECT_NE(out.find("is the disk full"), std::string::npos) << out;
  EXPECT_NE(out.find("run the same command again"), std::string::npos) << out;
  EXPECT_EQ(out.find("internal error"), std::string::npos) << out;
  const size_t partial = store::RunStore::open(full)->stored_images().size();
  EXPECT_GT(partial, 0u);
  EXPECT_LT(partial, 3000u) << "the limit was never reached: the test proved nothing";
  std::string check;
  ASSERT_EQ(run_command("sqlite3 " + full + "/store.sqlite 'PRAGMA integrity_check'", &check), 0) << check;
  EXPECT_EQ(check, "ok\n");
  ASSERT_EQ(run_command(attribute_cmd(full), &out), 0) << out;
  auto a = store::RunStore::open(clean), b = store::RunStore::open(full);
  EXPECT_EQ(b->stored_images(), a->stored_images());
  EXPECT_EQ(b->count_attributions(), a->count_attributions());
}

// An output folder that cannot be written, or whose parent is a file: a clear error naming it, before any work.
TEST(RunStore, AnUnwritableOutputFolderIsAClearError) {
  const std::string dir = temp_dir("store_readonly");
  ASSERT_EQ(chmod(dir.c_str(), 0555), 0);
  std::string out;
  if (geteuid() != 0) {  // root writes anywhere: the read-only case only means something for other users
    EXPECT_EQ(run_command(attribute_cmd(dir + "/run"), &out), 2) << out;
    EXPECT_NE(out.find(dir + "/run"), std::string::npos) << out;
  }
  chmod(dir.c_str(), 0755);
  std::ofstream(dir + "/a-file") << "x";
  EXPECT_EQ(run_command(attribute_cmd(dir + "/a-file/run"), &out), 2) << out;
  EXPECT_NE(out.find(dir + "/a-file/run"), std::string::npos) << out;
  EXPECT_EQ(out.find("internal error"), std::string::npos) << out;
}

namespace {

// A store of `images` x 20 features, written through the store's own API (no model runs).
void write_generated_store(const std::string& dir, int64_t images) {
  nlohmann::json cfg = {{"features", nlohmann::json::array()}, {"layers", {"relu2"}}};
  for (int k = 0; k < 20; ++k) cfg["features"].push_back("conv3:" + std::to_string(k));
  auto st = store::RunStore::open_for_writing(dir, cfg);
  for (int64_t first = 0; first < images; first += 1000) {
    std::vector<store::ImageRecord> ims;
    std::vector<store::AttributionRecord> rows;
    for (int64_t i = first; i < std::min(images, first + 1000); ++i) {
      ims.push_back({i, "img" + std::to_string(i) + ".png", 0, ""});
      for (int64_t k = 0; k < 20; ++k) {
        store::AttributionRecord r;
        r.image = i;
        r.feature = k;
        r.layer = 0;
        r.fv = static_cast<double>(i % 97) / 97;
        r.phi_pos = r.phi_neg = std::vector<float>(16, 0.5f);
        rows.push_back(std::move(r));
      }
    }
    st->write_chunk(ims, rows);
  }
}

// Peak resident memory in MB of `tension ARGS`, run as a child of a fresh child (getrusage of its children).
// Peak memory is the Release program's property: under AddressSanitizer it counts the quarantine of freed memory.
bool rss_measurable() {
#ifdef TENSION_SANITIZED
  return false;
#else
  return true;
#endif
}

double peak_rss_mb(const std::string& args) {
  const pid_t pid = fork();
  if (pid == 0) {
    const std::string cmd = "exec " + cli_binary() + " " + args + " > /dev/null 2>&1";
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  struct rusage ru {};
  wait4(pid, &status, 0, &ru);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << args;
  return ru.ru_maxrss / 1024.0;
}

// A run over `images` synthetic images whose pass attributed only the first 4 (so that the store holds a real run's
// config, layout and plan); a generator writes the other rows, of the same shape, with seeded random values.
void write_grown_run(const std::string& dir, int64_t images) {
  std::string out;
  ASSERT_EQ(run_command(cli_binary() + " attribute fmnist-cnn --weights random 'synthetic:noise?n=" +
                            std::to_string(images) + "&size=28' --limit 4 -f conv3:0 -f conv3:1 -l relu2 --out " + dir,
                        &out),
            0)
      << out;
  auto st = store::RunStore::open_for_writing(dir, store::RunStore::open(dir)->config());
  const auto first_id = st->images().front().id;
  const size_t map = st->attributions(true).front().phi_pos.size();
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(0, 1);
  for (int64_t from = 4; from < images; from += 5000) {
    std::vector<store::ImageRecord> ims;
    std::vector<store::AttributionRecord> rows;
    for (int64_t i = from; i < std::min(images, from + 5000); ++i) {
      ims.push_back({i, first_id.substr(0, first_id.size() - 1) + std::to_string(i), -1, ""});
      for (int64_t f = 0; f < 2; ++f) {
        store::AttributionRecord r;
        r.image = i;
        r.feature = f;
        r.layer = 0;
        r.fv = 2 * u(rng) - 1;
        r.e_pos = u(rng);
        r.e_neg = u(rng);
        r.e = r.e_pos - r.e_neg;
        r.l1 = r.e_pos + r.e_neg;
        r.l2 = u(rng);
        r.l21 = u(rng);
        for (size_t p = 0; p < map; ++p) {
          r.phi_pos.push_back(u(rng) * u(rng));
          r.phi_neg.push_back(u(rng) * u(rng));
        }
        rows.push_back(std::move(r));
      }
    }
    st->write_chunk(ims, rows);
  }
}

}  // namespace

// select and atlas stream the store (scores first, maps for the images shown): a run of 200,000 rows costs about what
// one of 10,000 does. Reading every row with its maps first cost ~1.5 KB a row. The selections themselves are
// checked against the rows read at once: the top f_v, and the atlas's images as the top L2,1 norms.
TEST(RunStore, SelectAndAtlasRunInMemoryBoundedByTheShownImagesNotTheRows) {
  if (!rss_measurable()) GTEST_SKIP() << "peak RSS under AddressSanitizer counts its quarantine";
  const std::string dir = temp_dir("store_grown"), small = dir + "/small", large = dir + "/large";
  ASSERT_NO_FATAL_FAILURE(write_grown_run(small, 5000));
  ASSERT_NO_FATAL_FAILURE(write_grown_run(large, 100000));
  const std::string select = " -f 0 -l 0 -r mei -r mti -r spatial -r channel -k 8 --page-points 50 --out ";
  const double sel_small = peak_rss_mb("select " + small + select + small + "/sel");
  const double sel_large = peak_rss_mb("select " + large + select + large + "/sel");
  EXPECT_LT(sel_large - sel_small, 40) << sel_small << " MB for 10k rows, " << sel_large << " MB for 200k rows";
  const std::string atlas = " -f 0 -l 0 --images 60 --grid 3 --icon-steps 4 --icon-batch 9 --icon-px 16 "
                            "--top-images 2 --out ";
  const double atlas_small = peak_rss_mb("atlas " + small + atlas + small + "/atlas");
  const double atlas_large = peak_rss_mb("atlas " + large + atlas + large + "/atlas");
  EXPECT_LT(atlas_large - atlas_small, 40) << atlas_small << " MB for 10k rows, " << atlas_large << " MB for 200k";

  std::vector<store::AttributionRecord> rows;
  for (auto& r : store::RunStore::open(large)->attributions(false)) {
    if (r.feature == 0) rows.push_back(r);
  }
  ASSERT_EQ(rows.size(), 100000u);
  auto best_fv = std::max_element(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.fv < b.fv; });
  bool found = false;
  for (const auto& line : read_csv(large + "/sel/selection.csv")) {
    if (line[0] == "mei" && line[1] == "1") found = std::stoll(line[2]) == best_fv->image;
  }
  EXPECT_TRUE(found) << "the top MEI is not image " << best_fv->image;
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.l21 > b.l21; });
  std::set<int64_t> top60, placed;
  for (size_t i = 0; i < 60; ++i) top60.insert(rows[i].image);
  for (const auto& line : read_csv(large + "/atlas/layout.csv")) placed.insert(std::stoll(line[0]));
  EXPECT_EQ(placed, top60);
  EXPECT_EQ(read_json(large + "/atlas/run.json")["results"]["atlas"]["run_images"].get<size_t>(), 100000u);
}

// Exports stream their rows: a store of 1,000,000 rows costs about what one of 10,000 does (reading every row into
// memory first cost ~180 MB more for the CSV and ~350 MB more for the .npy matrices).
TEST(RunStore, ExportsRunInMemoryBoundedByTheOutputNotTheRows) {
  if (!rss_measurable()) GTEST_SKIP() << "peak RSS under AddressSanitizer counts its quarantine";
  const std::string small = temp_dir("store_rows_10k"), large = temp_dir("store_rows_1m");
  write_generated_store(small, 500);
  write_generated_store(large, 50000);
  const double csv_small = peak_rss_mb("export " + small + " --csv " + small + ".csv");
  const double csv_large = peak_rss_mb("export " + large + " --csv " + large + ".csv");
  EXPECT_LT(csv_large - csv_small, 60) << csv_small << " MB for 10k rows, " << csv_large << " MB for 1M rows";
  const double npy_small = peak_rss_mb("export " + small + " --npy " + small + "-npy");
  const double npy_large = peak_rss_mb("export " + large + " --npy " + large + "-npy");
  // The matrices themselves: 50,000 x 20 f_v and 3 x 20 E vectors of doubles, about 32 MB.
  EXPECT_LT(npy_large - npy_small, 100) << npy_small << " MB for 10k rows, " << npy_large << " MB for 1M rows";
  std::ifstream csv(large + ".csv");
  size_t lines = 0;
  for (std::string l; std::getline(csv, l);) ++lines;
  EXPECT_EQ(lines, 1000001u);
}
