#pragma once
// The response database of the human experiment (paper App B): one SQLite file holding the participants and
// every answer they gave. The experiment (experiment.h) is its only writer; the analysis reads it with
// read_answers (answer.h). Tables:
//   meta          key/value: format ("tension-trials-responses 1") and the bundle's trials.json SHA-256
//   participants  id, prolific_pid, study_id, session_id, seed, trial_order (JSON), joined, started, finished,
//                 completion
//   answers       participant, trial, layer, question (1 MEI, 2 MII), choice, correct, rt_ms, at;
//                 UNIQUE(participant, trial, question)
// WAL mode; with `durable` (the server) synchronous=FULL, so a committed answer survives a kill -9 and a power
// cut. Times are ISO 8601 UTC with milliseconds.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tension/store/sqlite_db.h"
#include "tension/trials/answer.h"

namespace tension::trials {

struct Participant {
  std::string id;                                  // PROLIFIC_PID, or participant=
  std::string prolific_pid, study_id, session_id;  // as the recruiting service sent them (empty when not)
  uint64_t seed = 0;                               // stable hash of the id: the layer and trial order
  std::vector<int64_t> order;                      // trial ids in the order shown
  std::string joined;                              // first arrival
  std::string started, finished;                   // consent given, last answer stored; empty until then
  std::string completion;                          // the completion code shown when finished
};

class ResponseDb {
 public:
  // Opens `path`; with `create` a missing file gets the tables (an existing response database is kept as it
  // is). Throws tension::Error naming the file when it is not a response database.
  ResponseDb(const std::string& path, bool create, bool durable = true);

  const std::string& path() const { return db_.path(); }
  // The SHA-256 of the trials.json the answers refer to: recorded on first use; a database holding answers to
  // another bundle is refused (tension::Error naming both).
  void bind_bundle(const std::string& trials_sha256);

  std::optional<Participant> participant(const std::string& id);
  void add_participant(const Participant& p);
  void set_started(const std::string& id, const std::string& at);
  void set_finished(const std::string& id, const std::string& at, const std::string& completion);
  // The participant's answers in the order they were given.
  std::vector<Answer> answers(const std::string& participant);
  void add_answer(const Answer& a);
  std::vector<Answer> all_answers();  // by participant, then time
  std::vector<Participant> participants();

  // BEGIN IMMEDIATE ... COMMIT: a check and the write it allows, atomic also against another process.
  store::Transaction transaction() { return store::Transaction(db_); }

 private:
  store::Database db_;
};

// One row per answer: participant, prolific_pid, study_id, session_id, trial, layer, question (mei/mii), choice,
// correct (0/1), rt_ms, at. Returns the number of rows.
int64_t export_csv(const std::string& db, const std::string& out_csv);

// Now as ISO 8601 UTC with milliseconds, e.g. 2026-12-05T06:17:53.123Z.
std::string utc_now();

}  // namespace tension::trials
