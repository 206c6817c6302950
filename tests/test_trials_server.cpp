// The human experiment's server side (paper App B, Fig 9): the Experiment's rules in process; the real
// `tension trials serve` over HTTP (a corpus of bad requests that must change nothing, and 20 concurrent
// participants while the server is killed with SIGKILL and restarted); the participant page in headless Chromium
// (tests/web/trials_page.mjs); and the simulator.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "tension/trials/answer.h"
#include "tension/trials/experiment.h"
#include "tension/trials/responses.h"
#include "tension/trials/simulate.h"
#include "testing.h"
#include "trials_fixture.h"

namespace trials = tension::trials;
using tension::testing::cli_binary;
using tension::testing::error_of;
using tension::testing::run_command;
using tension::testing::source_dir;
using tension::testing::temp_dir;
using tension::testing::write_synthetic_bundle;
using trials::Question;
using Json = nlohmann::json;

namespace {

// What identifies an answer, with the choice, for comparing databases.
using AnswerKey = std::tuple<std::string, int64_t, int, int64_t, bool, int64_t>;

std::vector<AnswerKey> keys(const std::vector<trials::Answer>& answers) {
  std::vector<AnswerKey> out;
  for (const auto& a : answers) {
    out.emplace_back(a.participant, a.trial, static_cast<int>(a.question), a.choice, a.correct, a.rt_ms);
  }
  return out;
}

int64_t participant_count(const std::string& db) { return trials::ResponseDb(db, false, false).participants().size(); }

// A port nobody listens on now.
int free_port() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t n = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &n);
  close(s);
  return ntohs(a.sin_port);
}

// The status of one raw HTTP/1.1 request line, sent byte for byte (no client normalises the path).
int raw_status(int port, const std::string& method, const std::string& target) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(s);
    return -1;
  }
  const std::string req = method + " " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  if (send(s, req.data(), req.size(), 0) != static_cast<ssize_t>(req.size())) {
    close(s);
    return -1;
  }
  std::string got;
  char buf[1024];
  ssize_t n;
  while ((n = recv(s, buf, sizeof buf, 0)) > 0) got.append(buf, static_cast<size_t>(n));
  close(s);
  if (got.compare(0, 9, "HTTP/1.1 ") != 0) return -1;
  return std::atoi(got.c_str() + 9);
}

// Requests `target` and resets the connection without reading the reply, as a participant closing the tab does.
void request_and_reset(int port, const std::string& target) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const std::string req = "GET " + target + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
    [[maybe_unused]] auto n = send(s, req.data(), req.size(), 0);
    const linger reset{1, 0};
    setsockopt(s, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  }
  close(s);
}

// `tension trials serve` as a child process.
class ServerProcess {
 public:
  ServerProcess(std::vector<std::string> args, int port, std::string log)
      : args_(std::move(args)), port_(port), log_(std::move(log)) {}
  ~ServerProcess() {
    if (pid_ > 0) kill9();
  }

  void start() {
    std::vector<std::string> argv = {cli_binary(), "trials", "serve"};
    argv.insert(argv.end(), args_.begin(), args_.end());
    argv.insert(argv.end(), {"--port", std::to_string(port_)});
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    ASSERT_EQ(posix_spawn(&pid_, cargv[0], &fa, nullptr, cargv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    // Ready when it answers.
    httplib::Client c("127.0.0.1", port_);
    c.set_connection_timeout(0, 200000);
    for (int i = 0; i < 300; ++i) {
      if (auto r = c.Get("/api/state?participant=nobody")) return;
      int status = 0;
      ASSERT_EQ(waitpid(pid_, &status, WNOHANG), 0) << "the server exited: " << log();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "the server did not answer within 15 s: " << log();
  }

  void kill9() {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  // SIGTERM; the exit status, -1 when it did not exit within 10 s.
  int terminate() {
    kill(pid_, SIGTERM);
    for (int i = 0; i < 200; ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return -1;
  }

  std::string log() const {
    std::ifstream in(log_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  std::vector<std::string> args_;
  int port_;
  std::string log_;
  pid_t pid_ = -1;
};

struct Reply {
  int status = -1;  // -1: no reply (connection error)
  Json body;
};

Reply post(httplib::Client& c, const std::string& path, const std::string& body) {
  Reply r;
  if (auto res = c.Post(path.c_str(), body, "application/json")) {
    r.status = res->status;
    r.body = Json::parse(res->body, nullptr, false);
  }
  return r;
}

Reply get(httplib::Client& c, const std::string& path) {
  Reply r;
  if (auto res = c.Get(path.c_str())) {
    r.status = res->status;
    r.body = Json::parse(res->body, nullptr, false);
  }
  return r;
}

// True when the JSON says anything of which choice is the MEI or the MII.
bool reveals_answer(const Json& j) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() == "mei" || it.key() == "mii" || it.key() == "answer" || it.key() == "correct") return true;
      if (reveals_answer(it.value())) return true;
    }
  }
  if (j.is_array()) {
    for (const auto& v : j) {
      if (reveals_answer(v)) return true;
    }
  }
  return false;
}

std::string answer_body(const std::string& p, int64_t trial, int q, int64_t choice, int64_t rt = 1234) {
  return Json{{"participant", p}, {"trial", trial}, {"question", q}, {"choice", choice}, {"rt_ms", rt}}.dump();
}

bool have_browser() {
  const char* chromium = std::getenv("CHROMIUM");
  return run_command("command -v node") == 0 && std::filesystem::exists(chromium ? chromium : "/usr/bin/chromium");
}

}  // namespace

TEST(TrialsExperiment, OrderIsSeededPerParticipantStableAndLayerByLayer) {
  const auto b = write_synthetic_bundle(temp_dir("trials_order"));
  std::set<std::string> first_layers;
  std::set<std::vector<int64_t>> orders;
  for (int i = 0; i < 20; ++i) {
    const std::string id = "participant" + std::to_string(i);
    const auto order = trials::trial_order(b, id);
    EXPECT_EQ(order, trials::trial_order(b, id)) << "the order of " << id << " is not stable";
    ASSERT_EQ(order.size(), 45u);
    EXPECT_EQ(std::set<int64_t>(order.begin(), order.end()).size(), 45u) << "a trial is shown twice";
    // Three runs of 15 trials, one layer each.
    std::set<std::string> seen;
    for (size_t k = 0; k < order.size(); k += 15) {
      const std::string layer = b.trials[static_cast<size_t>(order[k])].layer;
      EXPECT_TRUE(seen.insert(layer).second) << id << ": layer " << layer << " comes back";
      for (size_t j = k; j < k + 15; ++j) EXPECT_EQ(b.trials[static_cast<size_t>(order[j])].layer, layer);
    }
    first_layers.insert(b.trials[static_cast<size_t>(order[0])].layer);
    orders.insert(order);
  }
  EXPECT_EQ(orders.size(), 20u) << "participants share an order";
  EXPECT_EQ(first_layers.size(), 3u) << "the layer order is not shuffled per participant";
}

TEST(TrialsExperiment, QuestionsInTurnQ2NotQ1AndBadAnswersChangeNothing) {
  const std::string dir = temp_dir("trials_rules");
  const auto b = write_synthetic_bundle(dir + "/bundle");
  const std::string db = dir + "/responses.db";
  trials::ExperimentOptions o;
  o.completion_code = "C0DE";
  trials::Experiment ex(dir + "/bundle", db, o);
  auto status_of = [&](auto f) {
    const auto before = keys(trials::read_answers(db));
    int status = 0;
    try {
      f();
    } catch (const trials::RequestError& e) {
      status = e.status;
    }
    EXPECT_EQ(keys(trials::read_answers(db)), before) << "a refused answer changed the database";
    return status;
  };

  trials::Identity who;
  who.participant = "alice";
  auto s = ex.join(who);
  EXPECT_EQ(s.screen, trials::Screen::consent);
  const auto order = trials::trial_order(b, "alice");
  EXPECT_EQ(status_of([&] { ex.answer("alice", order[0], Question::mei, 0, 10); }), 409) << "before consent";
  s = ex.start("alice");
  ASSERT_EQ(s.screen, trials::Screen::trial);
  const auto& t0 = b.trials[static_cast<size_t>(order[0])];
  EXPECT_EQ(s.trial.id, t0.id);
  EXPECT_EQ(s.trial.question, Question::mei);
  EXPECT_EQ(s.trial.disabled, -1);
  EXPECT_EQ(s.trial.number, 1);
  EXPECT_EQ(s.trial.layer_number, 1);
  EXPECT_EQ(s.trial.trials_in_layer, 15);
  ASSERT_EQ(s.trial.choices.size(), 9u);
  ASSERT_EQ(s.trial.examples.size(), 6u);
  for (size_t c = 0; c < 9; ++c) EXPECT_EQ(s.trial.choices[c], t0.choices[c].crop);
  EXPECT_FALSE(reveals_answer(trials::to_json(s))) << trials::to_json(s).dump();

  EXPECT_EQ(status_of([&] { ex.answer("alice", t0.id, Question::mii, 0, 10); }), 409) << "Q2 before Q1";
  EXPECT_EQ(status_of([&] { ex.answer("alice", order[1], Question::mei, 0, 10); }), 409) << "another trial";
  EXPECT_EQ(status_of([&] { ex.answer("alice", 45, Question::mei, 0, 10); }), 404) << "unknown trial";
  EXPECT_EQ(status_of([&] { ex.answer("alice", t0.id, Question::mei, 9, 10); }), 400) << "choice 9";
  EXPECT_EQ(status_of([&] { ex.answer("alice", t0.id, Question::mei, -1, 10); }), 400) << "choice -1";
  EXPECT_EQ(status_of([&] { ex.answer("alice", t0.id, Question::mei, 0, -5); }), 400) << "negative time";
  EXPECT_EQ(status_of([&] { ex.answer("mallory", t0.id, Question::mei, 0, 10); }), 404) << "unknown participant";
  EXPECT_EQ(status_of([&] { ex.state("mallory"); }), 404);
  EXPECT_EQ(status_of([&] { ex.start("mallory"); }), 404);
  trials::Identity bad;
  bad.participant = "../etc";
  EXPECT_EQ(status_of([&] { ex.join(bad); }), 400);
  EXPECT_EQ(trials::read_answers(db).size(), 0u);

  const int64_t wrong = (t0.mei + 1) % 9 == t0.mii ? (t0.mei + 2) % 9 : (t0.mei + 1) % 9;
  auto r = ex.answer("alice", t0.id, Question::mei, wrong, 1500);
  EXPECT_FALSE(r.correct);
  EXPECT_EQ(r.answer, t0.mei);
  ASSERT_EQ(r.next.screen, trials::Screen::trial);
  EXPECT_EQ(r.next.trial.id, t0.id);
  EXPECT_EQ(r.next.trial.question, Question::mii);
  EXPECT_EQ(r.next.trial.disabled, wrong);
  EXPECT_FALSE(reveals_answer(trials::to_json(r.next)));
  EXPECT_EQ(status_of([&] { ex.answer("alice", t0.id, Question::mei, t0.mei, 10); }), 409) << "repeated Q1";
  EXPECT_EQ(status_of([&] { ex.answer("alice", t0.id, Question::mii, wrong, 10); }), 400) << "Q2 takes Q1's choice";
  r = ex.answer("alice", t0.id, Question::mii, t0.mii, 900);
  EXPECT_TRUE(r.correct);
  EXPECT_EQ(r.answer, t0.mii);
  EXPECT_EQ(r.next.trial.id, order[1]);
  EXPECT_EQ(r.next.trial.question, Question::mei);
  EXPECT_EQ(r.next.trial.number, 2);
  EXPECT_EQ(status_of([&] { ex.answer("alice", t0.id, Question::mii, t0.mei, 10); }), 409) << "repeated Q2";

  const auto answers = trials::read_answers(db);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[0].participant, "alice");
  EXPECT_EQ(answers[0].trial, t0.id);
  EXPECT_EQ(answers[0].layer, t0.layer);
  EXPECT_EQ(answers[0].question, Question::mei);
  EXPECT_EQ(answers[0].choice, wrong);
  EXPECT_FALSE(answers[0].correct);
  EXPECT_EQ(answers[0].rt_ms, 1500);
  EXPECT_EQ(answers[1].question, Question::mii);
  EXPECT_TRUE(answers[1].correct);
  EXPECT_EQ(answers[0].at.size(), 24u) << answers[0].at;  // 2026-12-05T06:17:53.123Z
  EXPECT_EQ(answers[0].at.back(), 'Z');
}

TEST(TrialsExperiment, ReturningParticipantContinuesAndFinishedCannotAnswer) {
  const std::string dir = temp_dir("trials_resume");
  const auto b = write_synthetic_bundle(dir + "/bundle");
  const std::string db = dir + "/responses.db";
  trials::ExperimentOptions o;
  o.completion_code = "XYZ123";
  o.completion_url = "https://example.org/done?cc=XYZ123";
  trials::Identity who;
  who.prolific_pid = "5f0c1d2e3a4b5c6d7e8f9a0b";
  who.study_id = "study7";
  who.session_id = "sessionA";
  const std::string id = who.prolific_pid;
  {
    trials::Experiment ex(dir + "/bundle", db, o);
    EXPECT_EQ(ex.join(who).participant, id);
    auto s = ex.start(id);
    for (int k = 0; k < 21; ++k) {  // ten trials and a half
      const auto& t = b.trials[static_cast<size_t>(s.trial.id)];
      const int64_t choice = s.trial.question == Question::mei ? t.mei : t.mii;
      s = ex.answer(id, s.trial.id, s.trial.question, choice, 100).next;
    }
  }
  const auto order = trials::trial_order(b, id);
  trials::Experiment ex(dir + "/bundle", db, o);
  auto s = ex.join(who);  // comes back: no consent again, the Q2 of trial 11
  ASSERT_EQ(s.screen, trials::Screen::trial);
  EXPECT_EQ(s.trial.id, order[10]);
  EXPECT_EQ(s.trial.question, Question::mii);
  EXPECT_EQ(s.trial.disabled, b.trials[static_cast<size_t>(order[10])].mei);
  EXPECT_EQ(s.trial.number, 11);
  while (s.screen == trials::Screen::trial) {
    const auto& t = b.trials[static_cast<size_t>(s.trial.id)];
    s = ex.answer(id, s.trial.id, s.trial.question, s.trial.question == Question::mei ? t.mei : t.mii, 100).next;
  }
  ASSERT_EQ(s.screen, trials::Screen::complete);
  EXPECT_EQ(s.completion_code, "XYZ123");
  EXPECT_EQ(s.completion_url, o.completion_url);
  EXPECT_EQ(ex.join(who).screen, trials::Screen::complete);
  EXPECT_EQ(ex.start(id).screen, trials::Screen::complete);
  const auto before = keys(trials::read_answers(db));
  EXPECT_EQ(before.size(), 90u);
  for (const auto& t : b.trials) {
    for (auto q : {Question::mei, Question::mii}) {
      try {
        ex.answer(id, t.id, q, 0, 10);
        ADD_FAILURE() << "a finished participant answered trial " << t.id;
      } catch (const trials::RequestError& e) {
        EXPECT_EQ(e.status, 409);
      }
    }
  }
  EXPECT_EQ(keys(trials::read_answers(db)), before);
  const auto p = trials::ResponseDb(db, false).participant(id);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->prolific_pid, who.prolific_pid);
  EXPECT_EQ(p->study_id, "study7");
  EXPECT_EQ(p->session_id, "sessionA");
  EXPECT_EQ(p->order, order);
  EXPECT_FALSE(p->started.empty());
  EXPECT_FALSE(p->finished.empty());
  EXPECT_EQ(p->completion, "XYZ123");
  for (const auto& a : trials::read_answers(db)) EXPECT_TRUE(a.correct);
}

TEST(TrialsExperiment, NotAResponseDatabaseIsAClearError) {
  const std::string dir = temp_dir("trials_not_db");
  write_synthetic_bundle(dir + "/bundle");
  { std::ofstream(dir + "/text.db") << "this is not SQLite, it is a long enough line of text to look like a file\n"; }
  auto msg = error_of([&] { trials::read_answers(dir + "/text.db"); });
  EXPECT_NE(msg.find(dir + "/text.db"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not a response database"), std::string::npos) << msg;
  msg = error_of([&] { trials::read_answers(dir + "/missing.db"); });
  EXPECT_NE(msg.find(dir + "/missing.db"), std::string::npos) << msg;
  {
    tension::store::Database other(dir + "/other.db", true);
    other.exec("CREATE TABLE images(idx INTEGER)");
  }
  msg = error_of([&] { trials::Experiment(dir + "/bundle", dir + "/other.db"); });
  EXPECT_NE(msg.find("not a response database"), std::string::npos) << msg;
  msg = error_of([&] { trials::export_csv(dir + "/other.db", dir + "/out.csv"); });
  EXPECT_NE(msg.find(dir + "/other.db"), std::string::npos) << msg;
  // A database of one bundle is refused for another.
  { trials::Experiment ex(dir + "/bundle", dir + "/responses.db"); }
  write_synthetic_bundle(dir + "/bundle2", {"a", "b"}, 4);
  msg = error_of([&] { trials::Experiment(dir + "/bundle2", dir + "/responses.db"); });
  EXPECT_NE(msg.find("another trial bundle"), std::string::npos) << msg;
}

TEST(TrialsSimulate, KnownAccuraciesThroughTheExperiment) {
  const std::string dir = temp_dir("trials_simulate");
  const auto b = write_synthetic_bundle(dir + "/bundle");
  trials::SimulateOptions o;
  o.bundle = dir + "/bundle";
  o.db = dir + "/a.db";
  o.participants = 30;
  o.accuracy_mei = {1.0, 0.5, 0.0};
  o.accuracy_mii = {0.0, 1.0, 0.5};
  o.seed = 7;
  EXPECT_EQ(trials::simulate(o), 30 * 90);
  const auto answers = trials::read_answers(o.db);
  ASSERT_EQ(answers.size(), 30u * 90u);
  std::map<std::pair<std::string, int>, std::pair<int, int>> hits;  // (layer, question) -> correct, total
  std::map<std::pair<std::string, int64_t>, int64_t> q1;
  for (const auto& a : answers) {
    auto& h = hits[{a.layer, static_cast<int>(a.question)}];
    h.first += a.correct;
    ++h.second;
    const auto& t = b.trials[static_cast<size_t>(a.trial)];
    EXPECT_EQ(a.correct, a.choice == (a.question == Question::mei ? t.mei : t.mii));
    if (a.question == Question::mei) {
      EXPECT_NE(a.choice, t.mii) << "a wrong Q1 took the MII";
      q1[{a.participant, a.trial}] = a.choice;
    } else {
      EXPECT_NE(a.choice, q1.at({a.participant, a.trial})) << "Q2 took the Q1 choice";
    }
  }
  auto acc = [&](const std::string& layer, int q) {
    const auto& h = hits[{layer, q}];
    EXPECT_EQ(h.second, 450);
    return static_cast<double>(h.first) / h.second;
  };
  EXPECT_EQ(acc("conv1", 1), 1.0);
  EXPECT_NEAR(acc("conv2", 1), 0.5, 0.08);
  EXPECT_EQ(acc("conv3", 1), 0.0);
  EXPECT_EQ(acc("conv1", 2), 0.0);
  EXPECT_EQ(acc("conv2", 2), 1.0);
  EXPECT_NEAR(acc("conv3", 2), 0.5, 0.08);

  // The same seed gives the same answers; another seed others.
  o.db = dir + "/b.db";
  trials::simulate(o);
  EXPECT_EQ(keys(trials::read_answers(o.db)), keys(answers));
  o.db = dir + "/c.db";
  o.seed = 8;
  trials::simulate(o);
  EXPECT_NE(keys(trials::read_answers(o.db)), keys(answers));

  // Through the program, one accuracy for all layers; then the same names again are refused.
  std::string out;
  const std::string cmd = cli_binary() + " trials simulate --bundle " + dir + "/bundle --db " + dir +
                          "/cli.db --participants 3 --accuracy-mei 1 --accuracy-mii 0.25,0.5,0.75 --seed 3";
  ASSERT_EQ(run_command(cmd, &out), 0) << out;
  EXPECT_EQ(trials::read_answers(dir + "/cli.db").size(), 3u * 90u);
  EXPECT_EQ(run_command(cmd, &out), 2) << out;
  EXPECT_NE(out.find("already holds participant sim-0001"), std::string::npos) << out;
  EXPECT_EQ(run_command(cli_binary() + " trials simulate --bundle " + dir + "/bundle --db " + dir +
                            "/bad.db --participants 1 --accuracy-mei 1,1 --accuracy-mii 1",
                        &out),
            2);
  EXPECT_NE(out.find("--accuracy-mei: 2 values for the bundle's 3 layers"), std::string::npos) << out;

  // The export: one row per answer, with the layer.
  ASSERT_EQ(run_command(cli_binary() + " trials export --db " + dir + "/cli.db --csv " + dir + "/cli.csv", &out), 0)
      << out;
  std::ifstream csv(dir + "/cli.csv");
  std::string line;
  std::getline(csv, line);
  EXPECT_EQ(line, "participant,prolific_pid,study_id,session_id,trial,layer,question,choice,correct,rt_ms,at");
  int rows = 0;
  while (std::getline(csv, line)) {
    ++rows;
    EXPECT_NE(line.find(",conv"), std::string::npos) << line;
  }
  EXPECT_EQ(rows, 270);
}

TEST(TrialsServer, BadRequestsGet4xxAndChangeNothing) {
  const std::string dir = temp_dir("trials_server_bad");
  const auto b = write_synthetic_bundle(dir + "/bundle");
  { std::ofstream(dir + "/secret.txt") << "outside the bundle\n"; }
  const std::string db = dir + "/responses.db";
  std::set<std::string> files_before;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) files_before.insert(e.path().string());
  const int port = free_port();
  ServerProcess server({dir + "/bundle", "--db", db, "--completion-code", "ABC", "--completion-url",
                        "https://example.org/complete?cc=ABC"},
                       port, dir + "/server.log");
  server.start();
  EXPECT_NE(server.log().find("http://127.0.0.1:" + std::to_string(port) + "/"), std::string::npos) << server.log();

  httplib::Client c("127.0.0.1", port);
  auto page = c.Get("/?participant=alice");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("Which image is the new MEI (most exciting)?"), std::string::npos);
  EXPECT_EQ(page->body.find("http"), std::string::npos) << "the page names an external address";
  auto png = c.Get("/crops/c00000.png");
  ASSERT_TRUE(png);
  EXPECT_EQ(png->status, 200);
  EXPECT_EQ(png->get_header_value("Content-Type"), "image/png");
  {
    std::ifstream in(dir + "/bundle/crops/c00000.png", std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    EXPECT_EQ(png->body, s.str());
  }

  auto s = post(c, "/api/join", R"({"participant": "alice"})");
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_EQ(s.body["screen"], "consent");
  s = post(c, "/api/start", R"({"participant": "alice"})");
  ASSERT_EQ(s.status, 200) << s.body;
  ASSERT_EQ(s.body["screen"], "trial");
  EXPECT_FALSE(reveals_answer(s.body)) << s.body;
  const int64_t trial = s.body["trial"]["id"];
  const auto& t = b.trials[static_cast<size_t>(trial)];
  const int64_t q1 = t.mei == 0 ? 1 : 0;
  auto r = post(c, "/api/answer", answer_body("alice", trial, 1, q1));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body["answer"], t.mei);
  EXPECT_EQ(r.body["correct"], false);
  EXPECT_EQ(r.body["state"]["trial"]["disabled"], q1);
  EXPECT_FALSE(reveals_answer(r.body["state"]));
  auto st = get(c, "/api/state?participant=alice");
  EXPECT_EQ(st.status, 200);
  EXPECT_EQ(st.body, r.body["state"]);

  const auto before = keys(trials::read_answers(db));
  ASSERT_EQ(before.size(), 1u);
  const int64_t other = trial == 0 ? 1 : 0;
  struct Case {
    std::string name, path, body;
    int status;
  };
  const std::vector<Case> api = {
      {"unknown participant", "/api/answer", answer_body("mallory", trial, 2, t.mii), 404},
      {"unknown trial", "/api/answer", answer_body("alice", 4500, 2, t.mii), 404},
      {"choice 9", "/api/answer", answer_body("alice", trial, 2, 9), 400},
      {"choice -1", "/api/answer", answer_body("alice", trial, 2, -1), 400},
      {"question 3", "/api/answer", answer_body("alice", trial, 3, t.mii), 400},
      {"Q2 takes the Q1 choice", "/api/answer", answer_body("alice", trial, 2, q1), 400},
      {"repeated answer", "/api/answer", answer_body("alice", trial, 1, t.mei), 409},
      {"out of order", "/api/answer", answer_body("alice", other, 1, 0), 409},
      {"malformed JSON", "/api/answer", R"({"participant": "alice", "trial": )", 400},
      {"not an object", "/api/answer", "[1, 2, 3]", 400},
      {"choice as a string", "/api/answer",
       Json{{"participant", "alice"}, {"trial", trial}, {"question", 2}, {"choice", "1"}, {"rt_ms", 5}}.dump(), 400},
      {"choice as a fraction", "/api/answer",
       Json{{"participant", "alice"}, {"trial", trial}, {"question", 2}, {"choice", 1.5}, {"rt_ms", 5}}.dump(), 400},
      {"missing choice", "/api/answer", Json{{"participant", "alice"}, {"trial", trial}, {"question", 2}}.dump(), 400},
      {"oversized body", "/api/answer",
       Json{{"participant", "alice"},
            {"trial", trial},
            {"question", 2},
            {"choice", t.mii},
            {"rt_ms", 5},
            {"padding", std::string(20000, 'x')}}
           .dump(),
       413},
      {"oversized join", "/api/join", Json{{"participant", std::string(10000, 'a')}}.dump(), 413},
      {"join without an id", "/api/join", "{}", 400},
      {"join with a path as id", "/api/join", R"({"participant": "../../etc/passwd"})", 400},
      {"join with two ids", "/api/join", R"({"participant": "bob", "PROLIFIC_PID": "carol"})", 400},
      {"start unknown", "/api/start", R"({"participant": "mallory"})", 404},
  };
  for (const auto& k : api) {
    const auto got = post(c, k.path, k.body);
    EXPECT_EQ(got.status, k.status) << k.name << ": " << got.body;
    EXPECT_TRUE(got.body.is_object() && got.body.contains("error") && !got.body["error"].get<std::string>().empty())
        << k.name << ": no JSON error message: " << got.body;
  }
  EXPECT_EQ(get(c, "/api/state?participant=mallory").status, 404);
  EXPECT_EQ(get(c, "/api/state").status, 400);
  for (const std::string path :
       {"/crops/../trials.json", "/crops/..%2ftrials.json", "/crops/%2e%2e/trials.json", "/crops/%2e%2e%2ftrials.json",
        "/crops/..%2f..%2fsecret.txt", "/crops/../../secret.txt", "/crops/c99999.png", "/crops/C00000.png",
        "/crops/c00000.png.bak", "/crops/", "/crops/c00000", "/trials.json", "/run.json", "/secret.txt",
        "/bundle/crops/c00000.png", "/../secret.txt", "/%2e%2e/secret.txt", "/crops/%00.png", "/api/answer"}) {
    const int got = raw_status(port, "GET", path);
    EXPECT_GE(got, 400) << path;
    EXPECT_LT(got, 500) << path;
  }
  EXPECT_EQ(raw_status(port, "GET", "/crops/c00000.png"), 200);
  // Participants who leave mid-reply do not bring the server down (no SIGPIPE).
  for (int i = 0; i < 50; ++i) request_and_reset(port, i % 2 ? "/" : "/crops/c00001.png");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(raw_status(port, "GET", "/crops/c00000.png"), 200) << server.log();
  EXPECT_EQ(keys(trials::read_answers(db)), before) << "a bad request changed the answers";
  EXPECT_EQ(participant_count(db), 1) << "a bad request added a participant";
  EXPECT_EQ(get(c, "/api/state?participant=alice").body, r.body["state"]);

  EXPECT_EQ(server.terminate(), 0) << "SIGTERM did not stop the server cleanly: " << server.log();
  EXPECT_NE(server.log().find("stopped"), std::string::npos) << server.log();
  // It wrote nothing but the database (and SQLite's WAL files beside it).
  std::set<std::string> now;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) now.insert(e.path().string());
  for (const auto& f : {db, db + "-wal", db + "-shm", dir + "/server.log"}) now.erase(f);
  EXPECT_EQ(now, files_before) << "the server wrote a file other than its database";
}

TEST(TrialsServer, AcknowledgedAnswersSurviveKill9) {
  const std::string dir = temp_dir("trials_server_kill");
  const auto b = write_synthetic_bundle(dir + "/bundle");
  const std::string db = dir + "/responses.db";
  const int port = free_port();
  ServerProcess server({dir + "/bundle", "--db", db}, port, dir + "/server.log");
  server.start();

  constexpr int kParticipants = 20, kKills = 5;
  std::mutex mutex;
  std::map<std::tuple<std::string, int64_t, int>, int64_t> acked;  // -> the choice
  std::atomic<int> acked_count{0}, finished{0}, connection_errors{0};
  auto participant = [&](int i) {
    const std::string id = "p" + std::to_string(100 + i);
    std::mt19937 rng(static_cast<unsigned>(i));
    httplib::Client c("127.0.0.1", port);
    c.set_connection_timeout(1);
    c.set_read_timeout(5);
    // Until the server is back; a test that hangs would be no test.
    auto retry = [&](auto f) {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      for (;;) {
        Reply r = f();
        if ((r.status != -1 && r.status < 500) || std::chrono::steady_clock::now() > deadline) return r;
        ++connection_errors;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    };
    Reply s = retry([&] { return post(c, "/api/join", Json{{"participant", id}}.dump()); });
    if (s.body["screen"] == "consent")
      s = retry([&] { return post(c, "/api/start", Json{{"participant", id}}.dump()); });
    while (s.status == 200 && s.body["screen"] == "trial") {
      const auto& t = s.body["trial"];
      const int64_t trial = t["id"], disabled = t["disabled"];
      const int q = t["question"];
      int64_t choice = static_cast<int64_t>(rng() % 9);
      if (choice == disabled) choice = (choice + 1) % 9;
      Reply r = post(c, "/api/answer", answer_body(id, trial, q, choice, static_cast<int64_t>(rng() % 5000)));
      if (r.status == 200) {
        std::lock_guard<std::mutex> lock(mutex);
        EXPECT_TRUE(acked.emplace(std::make_tuple(id, trial, q), choice).second) << "acknowledged twice";
        ++acked_count;
        s.body = r.body["state"];
        continue;
      }
      if (r.status == -1) {
        ++connection_errors;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      } else if (r.status != 409) {  // 409: stored by a server killed before it answered
        ADD_FAILURE() << id << ": answer refused with " << r.status << ": " << r.body;
        return;
      }
      s = retry([&] { return get(c, "/api/state?participant=" + id); });
    }
    EXPECT_EQ(s.body["screen"], "complete") << id << ": " << s.body;
    ++finished;
  };
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < kParticipants; ++i) threads.emplace_back(participant, i);
  const int total = kParticipants * 90;
  int kills = 0;
  while (kills < kKills && finished < kParticipants) {
    if (acked_count >= total * (kills + 1) / (kKills + 1)) {
      server.kill9();
      ++kills;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      server.start();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_EQ(kills, kKills);
  EXPECT_EQ(finished, kParticipants);
  const auto answers = trials::read_answers(db);
  std::printf(
      "%d answers acknowledged, %zu stored whose acknowledgement a kill cut off, %d connection errors, %d "
      "kills, %.1f s\n",
      acked_count.load(), answers.size() - acked.size(), connection_errors.load(), kills, seconds);

  std::map<std::tuple<std::string, int64_t, int>, int> stored;
  for (const auto& a : answers) {
    const auto key = std::make_tuple(a.participant, a.trial, static_cast<int>(a.question));
    EXPECT_EQ(++stored[key], 1) << "stored twice: " << a.participant << " trial " << a.trial;
    const auto& t = b.trials[static_cast<size_t>(a.trial)];
    EXPECT_EQ(a.correct, a.choice == (a.question == Question::mei ? t.mei : t.mii));
  }
  for (const auto& [key, choice] : acked) {
    auto it = stored.find(key);
    ASSERT_NE(it, stored.end()) << "an acknowledged answer is lost: " << std::get<0>(key) << " trial "
                                << std::get<1>(key) << " Q" << std::get<2>(key);
  }
  for (const auto& a : answers) {
    auto it = acked.find(std::make_tuple(a.participant, a.trial, static_cast<int>(a.question)));
    if (it != acked.end()) {
      EXPECT_EQ(a.choice, it->second) << "the stored choice is not the acknowledged one";
    }
  }
  // Every participant finished: every trial's two questions are stored once; those not acknowledged were cut
  // off by a kill (at most one per participant per kill).
  EXPECT_EQ(answers.size(), static_cast<size_t>(total));
  EXPECT_LE(answers.size() - acked.size(), static_cast<size_t>(kParticipants * kKills));
  EXPECT_EQ(server.terminate(), 0) << server.log();
}

TEST(TrialsPage, TwoParticipantsCompleteTheExperimentInChromium) {
  const std::string dir = temp_dir("trials_page");
  const auto b = write_synthetic_bundle(dir + "/bundle");
  const std::string db = dir + "/responses.db";
  if (!have_browser()) GTEST_SKIP() << "needs node and Chromium (/usr/bin/chromium or $CHROMIUM)";
  const int port = free_port();
  const std::string code = "CODE42", url = "https://example.org/submissions/complete?cc=CODE42";
  ServerProcess server({dir + "/bundle", "--db", db, "--completion-code", code, "--completion-url", url}, port,
                       dir + "/server.log");
  server.start();
  std::string out;
  const int rc =
      run_command("node " + source_dir("tests/web/trials_page.mjs") + " http://127.0.0.1:" + std::to_string(port) +
                      "/ '" + dir + "/bundle/trials.json' " + code + " '" + url + "'",
                  &out);
  ASSERT_EQ(rc, 0) << out << "\nserver log:\n" << server.log();
  EXPECT_NE(out.find("ok correct: 45 trials"), std::string::npos) << out;
  EXPECT_NE(out.find("ok first: 45 trials"), std::string::npos) << out;
  EXPECT_NE(out.find("ok resumed"), std::string::npos) << out;

  // The database holds exactly their answers: the PROLIFIC participant clicked every correct answer; the other
  // clicked the first choice it could (choice 0, then choice 1 in Q2, whose choice 0 was taken).
  const std::string correct = "5f0c1d2e3a4b5c6d7e8f9a0b", first = "first-clicker";
  const auto answers = trials::read_answers(db);
  ASSERT_EQ(answers.size(), 2u * 45u * 2u);
  std::map<std::string, std::set<std::pair<int64_t, int>>> seen;
  for (const auto& a : answers) {
    ASSERT_TRUE(a.participant == correct || a.participant == first) << a.participant;
    EXPECT_TRUE(seen[a.participant].insert({a.trial, static_cast<int>(a.question)}).second);
    const auto& t = b.trials[static_cast<size_t>(a.trial)];
    EXPECT_EQ(a.layer, t.layer);
    EXPECT_GE(a.rt_ms, 0);
    EXPECT_LT(a.rt_ms, 60000);
    if (a.participant == correct) {
      EXPECT_TRUE(a.correct) << "trial " << a.trial;
      EXPECT_EQ(a.choice, a.question == Question::mei ? t.mei : t.mii);
    } else {
      const int64_t expected = a.question == Question::mei ? 0 : 1;
      EXPECT_EQ(a.choice, expected);
      EXPECT_EQ(a.correct, expected == (a.question == Question::mei ? t.mei : t.mii)) << "trial " << a.trial;
    }
  }
  EXPECT_EQ(seen[correct].size(), 90u);
  EXPECT_EQ(seen[first].size(), 90u);
  trials::ResponseDb r(db, false);
  const auto p = r.participant(correct);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->study_id, "study-1");
  EXPECT_EQ(p->session_id, "session-1");
  EXPECT_EQ(p->completion, code);
  EXPECT_EQ(r.participants().size(), 2u);
  EXPECT_EQ(server.terminate(), 0) << server.log();

  // The analysis of their answers: 100 % for `correct` in every layer and question; for `first`, the share of a
  // layer's trials whose MEI is choice 0 (Q1) and whose MII is choice 1 (Q2), counted here from the bundle.
  ASSERT_EQ(run_command(tension::testing::cli_binary() + " trials analyze --db " + db + " --bundle " + dir +
                            "/bundle --out " + dir + "/analysis",
                        &out),
            0)
      << out;
  std::map<std::pair<std::string, std::string>, int> first_hits;
  for (const auto& t : b.trials) {
    first_hits[{t.layer, "mei"}] += t.mei == 0;
    first_hits[{t.layer, "mii"}] += t.mii == 1;
  }
  std::ifstream csv(dir + "/analysis/participants.csv");
  std::string line;
  std::getline(csv, line);
  EXPECT_EQ(line, "participant,layer,question,answers,correct,accuracy");
  int rows = 0;
  while (std::getline(csv, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) f.push_back(cell);
    ASSERT_EQ(f.size(), 6u) << line;
    ++rows;
    EXPECT_EQ(f[3], "15") << line;
    const int expected = f[0] == correct ? 15 : first_hits.at({f[1], f[2]});
    EXPECT_EQ(std::stoi(f[4]), expected) << line;
    EXPECT_NEAR(std::stod(f[5]), expected / 15.0, 1e-12) << line;
  }
  EXPECT_EQ(rows, 2 * 3 * 2) << "two participants, three layers, two questions";
}
