#include "tension/trials/responses.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>

#include "tension/core/csv.h"
#include "tension/core/error.h"

namespace tension::trials {

namespace {

constexpr const char* kResponsesFormat = "tension-trials-responses 1";

const char* const kResponsesSchema = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE participants(
  id TEXT PRIMARY KEY,
  prolific_pid TEXT NOT NULL, study_id TEXT NOT NULL, session_id TEXT NOT NULL,
  seed TEXT NOT NULL,
  trial_order TEXT NOT NULL,
  joined TEXT NOT NULL, started TEXT, finished TEXT, completion TEXT);
CREATE TABLE answers(
  participant TEXT NOT NULL REFERENCES participants(id),
  trial INTEGER NOT NULL,
  layer TEXT NOT NULL,
  question INTEGER NOT NULL CHECK (question IN (1, 2)),
  choice INTEGER NOT NULL CHECK (choice BETWEEN 0 AND 8),
  correct INTEGER NOT NULL CHECK (correct IN (0, 1)),
  rt_ms INTEGER NOT NULL,
  at TEXT NOT NULL,
  UNIQUE (participant, trial, question));
)sql";

const char* const kAnswerColumns = "participant, trial, layer, question, choice, correct, rt_ms, at";

Answer answer_row(const store::Statement& s) {
  Answer a;
  a.participant = s.text_col(0);
  a.trial = s.int_col(1);
  a.layer = s.text_col(2);
  a.question = s.int_col(3) == 2 ? Question::mii : Question::mei;
  a.choice = s.int_col(4);
  a.correct = s.int_col(5) != 0;
  a.rt_ms = s.int_col(6);
  a.at = s.text_col(7);
  return a;
}

std::string text_or_empty(const store::Statement& s, int i) { return s.is_null(i) ? std::string() : s.text_col(i); }

}  // namespace

std::string utc_now() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, static_cast<int>(ms));
}

ResponseDb::ResponseDb(const std::string& path, bool create, bool durable) try : db_(path, create) {
  // A kill -9 loses nothing committed with NORMAL in WAL mode; FULL also keeps the last commits over a power cut.
  if (durable) db_.exec("PRAGMA synchronous=FULL");
  int64_t tables = 0;
  {
    auto s = db_.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'");
    if (s.step()) tables = s.int_col(0);
  }
  if (tables == 0) {
    if (!create) throw Error("it holds no tables");
    auto tx = transaction();
    db_.exec(kResponsesSchema);
    db_.prepare("INSERT INTO meta(key, value) VALUES ('format', ?)").bind(1, std::string(kResponsesFormat)).run();
    tx.commit();
    return;
  }
  std::string format;
  {
    auto s = db_.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'");
    if (s.step() && s.int_col(0) == 1) {
      auto f = db_.prepare("SELECT value FROM meta WHERE key = 'format'");
      if (f.step()) format = f.text_col(0);
    }
  }
  if (format != kResponsesFormat) throw Error("its format is '" + format + "', not '" + kResponsesFormat + "'");
} catch (const Error& e) {
  throw Error(path + ": not a response database of `tension trials serve` (" + e.what() + ")");
}

void ResponseDb::bind_bundle(const std::string& trials_sha256) {
  auto tx = transaction();
  auto s = db_.prepare("SELECT value FROM meta WHERE key = 'bundle'");
  if (s.step()) {
    const std::string known = s.text_col(0);
    if (known != trials_sha256) {
      throw Error(path() + ": holds answers to another trial bundle (trials.json SHA-256 " + known + ", this one " +
                  trials_sha256 + "); use a new --db for this bundle");
    }
    return;
  }
  db_.prepare("INSERT INTO meta(key, value) VALUES ('bundle', ?)").bind(1, trials_sha256).run();
  tx.commit();
}

std::optional<Participant> ResponseDb::participant(const std::string& id) {
  auto s = db_.prepare(
      "SELECT id, prolific_pid, study_id, session_id, seed, trial_order, joined, started, finished, completion "
      "FROM participants WHERE id = ?");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  Participant p;
  p.id = s.text_col(0);
  p.prolific_pid = s.text_col(1);
  p.study_id = s.text_col(2);
  p.session_id = s.text_col(3);
  try {
    p.seed = std::stoull(s.text_col(4));
    p.order = nlohmann::json::parse(s.text_col(5)).get<std::vector<int64_t>>();
  } catch (const std::exception& e) {
    throw Error(path() + ": participant " + id + " has a corrupt seed or trial order: " + e.what());
  }
  p.joined = s.text_col(6);
  p.started = text_or_empty(s, 7);
  p.finished = text_or_empty(s, 8);
  p.completion = text_or_empty(s, 9);
  return p;
}

std::vector<Participant> ResponseDb::participants() {
  std::vector<std::string> ids;
  {
    auto s = db_.prepare("SELECT id FROM participants ORDER BY joined, id");
    while (s.step()) ids.push_back(s.text_col(0));
  }
  std::vector<Participant> out;
  for (const auto& id : ids) out.push_back(*participant(id));
  return out;
}

void ResponseDb::add_participant(const Participant& p) {
  db_.prepare(
         "INSERT INTO participants(id, prolific_pid, study_id, session_id, seed, trial_order, joined) "
         "VALUES (?, ?, ?, ?, ?, ?, ?)")
      .bind(1, p.id)
      .bind(2, p.prolific_pid)
      .bind(3, p.study_id)
      .bind(4, p.session_id)
      .bind(5, std::to_string(p.seed))
      .bind(6, nlohmann::json(p.order).dump())
      .bind(7, p.joined)
      .run();
}

void ResponseDb::set_started(const std::string& id, const std::string& at) {
  db_.prepare("UPDATE participants SET started = ? WHERE id = ? AND started IS NULL").bind(1, at).bind(2, id).run();
}

void ResponseDb::set_finished(const std::string& id, const std::string& at, const std::string& completion) {
  db_.prepare("UPDATE participants SET finished = ?, completion = ? WHERE id = ?")
      .bind(1, at)
      .bind(2, completion)
      .bind(3, id)
      .run();
}

std::vector<Answer> ResponseDb::answers(const std::string& participant) {
  auto s = db_.prepare(fmt::format("SELECT {} FROM answers WHERE participant = ? ORDER BY rowid", kAnswerColumns));
  s.bind(1, participant);
  std::vector<Answer> out;
  while (s.step()) out.push_back(answer_row(s));
  return out;
}

std::vector<Answer> ResponseDb::all_answers() {
  auto s = db_.prepare(fmt::format("SELECT {} FROM answers ORDER BY participant, at, rowid", kAnswerColumns));
  std::vector<Answer> out;
  while (s.step()) out.push_back(answer_row(s));
  return out;
}

void ResponseDb::add_answer(const Answer& a) {
  db_.prepare(fmt::format("INSERT INTO answers({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", kAnswerColumns))
      .bind(1, a.participant)
      .bind(2, a.trial)
      .bind(3, a.layer)
      .bind(4, static_cast<int64_t>(a.question))
      .bind(5, a.choice)
      .bind(6, static_cast<int64_t>(a.correct))
      .bind(7, a.rt_ms)
      .bind(8, a.at)
      .run();
}

std::vector<Answer> read_answers(const std::string& db) {
  if (!std::filesystem::exists(db)) throw Error(db + ": no such response database");
  return ResponseDb(db, false, false).all_answers();
}

int64_t export_csv(const std::string& db, const std::string& out_csv) {
  if (!std::filesystem::exists(db)) throw Error(db + ": no such response database");
  ResponseDb r(db, false, false);
  std::map<std::string, Participant> who;
  for (auto& p : r.participants()) who[p.id] = std::move(p);
  const std::string tmp = out_csv + ".tmp";
  int64_t rows = 0;
  {
    std::ofstream out(tmp);
    if (!out) throw Error(out_csv + ": cannot write");
    out << "participant,prolific_pid,study_id,session_id,trial,layer,question,choice,correct,rt_ms,at\n";
    for (const auto& a : r.all_answers()) {
      const Participant& p = who[a.participant];
      out << csv_field(a.participant) << ',' << csv_field(p.prolific_pid) << ',' << csv_field(p.study_id) << ','
          << csv_field(p.session_id) << ',' << a.trial << ',' << csv_field(a.layer) << ','
          << (a.question == Question::mei ? "mei" : "mii") << ',' << a.choice << ',' << (a.correct ? 1 : 0) << ','
          << a.rt_ms << ',' << a.at << '\n';
      ++rows;
    }
    if (!out) throw Error(out_csv + ": cannot write");
  }
  std::filesystem::rename(tmp, out_csv);
  return rows;
}

}  // namespace tension::trials
