#pragma once
// The human MEI -> MII experiment (paper App B, Fig 9) as one state machine over a trial bundle and a response
// database: the only code path through which answers are given, used alike by the HTTP server (server.h) and
// the simulated participants (simulate.h).
//
// Rules: a participant arrives (join), gives consent (start), then answers every trial of the bundle, Q1
// "which is the new MEI?" then Q2 "which is the MII?" (not the Q1 choice), the 15 trials of one layer before the
// next layer. Layer order and trial order within a layer are seeded from the participant id (a stable hash), so
// a reload or a return gives the same order and continues where the participant left off. Answers are taken
// only for the participant's current trial and question; anything else is a RequestError and changes nothing.
// Which choice is the MEI or the MII is never part of a State: it is told only in the result of an answer.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "tension/core/error.h"
#include "tension/trials/answer.h"
#include "tension/trials/bundle.h"
#include "tension/trials/responses.h"

namespace tension::trials {

struct ExperimentOptions {
  std::string completion_code;  // shown on the completion screen (Prolific's "completion code")
  // Linked from the completion screen, e.g. Prolific's https://app.prolific.com/submissions/complete?cc=CODE.
  std::string completion_url;
  // synchronous=FULL: every acknowledged answer survives a kill -9 or a power cut (the server). The simulator
  // turns it off: its answers need not outlive a crash and it writes thousands.
  bool durable = true;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ExperimentOptions, completion_code, completion_url, durable)

// A bad request: an unknown participant or trial, an answer out of turn or repeated, a choice outside the
// trial. `status` is the HTTP status the server answers with (400, 404 or 409).
struct RequestError : Error {
  RequestError(int status, const std::string& what) : Error(what), status(status) {}
  int status;
};

// Who arrives, as the recruiting service names them: Prolific appends PROLIFIC_PID, STUDY_ID and SESSION_ID;
// otherwise `participant`. The participant's id is PROLIFIC_PID when given.
struct Identity {
  std::string participant, prolific_pid, study_id, session_id;
};

enum class Screen { consent, trial, complete };

// The current trial as shown: crop ids only.
struct TrialView {
  int64_t id = 0;  // Trial::id
  Question question = Question::mei;
  std::string layer;
  int64_t layer_number = 0, layers = 0;              // 1-based, in this participant's layer order
  int64_t number_in_layer = 0, trials_in_layer = 0;  // 1-based
  int64_t number = 0, trials = 0;                    // 1-based over the whole experiment
  std::vector<std::string> examples;                 // the 6 example MEIs
  std::vector<std::string> choices;                  // the 9 choices, in the bundle's display order
  int64_t disabled = -1;                             // Q2: the Q1 choice, which cannot be chosen again; -1 for Q1
};

struct State {
  Screen screen = Screen::consent;
  std::string participant;
  TrialView trial;                              // when screen == trial
  std::string completion_code, completion_url;  // when screen == complete
};

struct AnswerResult {
  bool correct = false;
  int64_t answer = 0;  // the correct choice's index (the MEI for Q1, the MII for Q2)
  State next;
};

nlohmann::json to_json(const State& s);
nlohmann::json to_json(const AnswerResult& r);

// The participant's trial ids in the order shown: layers in a seeded order, each layer's trials in a seeded
// order, both from a stable 64-bit hash of the id (the same on every machine and build).
std::vector<int64_t> trial_order(const Bundle& bundle, const std::string& participant);

class Experiment {
 public:
  // Reads the bundle in `bundle_dir`, opens (creating) the response database `db`. Throws tension::Error for a
  // bundle without trials or a database that holds answers to another bundle.
  Experiment(const std::string& bundle_dir, const std::string& db, ExperimentOptions opt = {});

  // The participant's state; a new participant is recorded (with the recruiting service's ids) and sees the
  // consent screen, a known one continues where they left off. RequestError 400 for a missing or malformed id.
  State join(const Identity& who);
  // Consent given: the first trial (or where the participant was). RequestError 404 for an unknown participant.
  State start(const std::string& participant);
  State state(const std::string& participant);
  // Records one answer in one transaction, durable when this returns. RequestError (and nothing recorded) for
  // an unknown participant (404) or trial (404), a choice outside 0..8 or Q2 taking the Q1 choice (400), a
  // negative response time (400), and an answer that is not the participant's current one: before consent,
  // after the end, repeated or out of order (409).
  AnswerResult answer(const std::string& participant, int64_t trial, Question question, int64_t choice, int64_t rt_ms);

  const Bundle& bundle() const { return bundle_; }
  const ExperimentOptions& options() const { return opt_; }

 private:
  Participant known(const std::string& participant);  // RequestError 404 when not
  State state_of(const Participant& p, const std::vector<Answer>& answers) const;

  Bundle bundle_;
  ExperimentOptions opt_;
  std::mutex mutex_;  // one writer at a time: the server answers on many threads
  ResponseDb db_;
};

}  // namespace tension::trials
