#include "tension/trials/experiment.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <numeric>

#include "tension/core/sha256.h"
#include "tension/core/splitmix.h"

namespace tension::trials {

namespace {

// FNV-1a: a stable hash of the participant id, the same on every machine, standard library and build.
uint64_t fnv1a64(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

bool plain_participant_id(const std::string& id) {
  return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-' || c == '.';
  });
}

const char* question_name(Question q) { return q == Question::mei ? "Q1 (MEI)" : "Q2 (MII)"; }

}  // namespace

nlohmann::json to_json(const State& s) {
  nlohmann::json j = {{"participant", s.participant}};
  switch (s.screen) {
    case Screen::consent:
      j["screen"] = "consent";
      break;
    case Screen::trial: {
      const auto& t = s.trial;
      j["screen"] = "trial";
      j["trial"] = {{"id", t.id},
                    {"question", static_cast<int>(t.question)},
                    {"layer", t.layer},
                    {"layer_number", t.layer_number},
                    {"layers", t.layers},
                    {"number_in_layer", t.number_in_layer},
                    {"trials_in_layer", t.trials_in_layer},
                    {"number", t.number},
                    {"trials", t.trials},
                    {"examples", t.examples},
                    {"choices", t.choices},
                    {"disabled", t.disabled}};
      break;
    }
    case Screen::complete:
      j["screen"] = "complete";
      j["completion"] = {{"code", s.completion_code}, {"url", s.completion_url}};
      break;
  }
  return j;
}

nlohmann::json to_json(const AnswerResult& r) {
  return {{"correct", r.correct}, {"answer", r.answer}, {"state", to_json(r.next)}};
}

std::vector<int64_t> trial_order(const Bundle& bundle, const std::string& participant) {
  uint64_t rng = fnv1a64(participant);
  std::vector<size_t> layers(bundle.layers.size());
  std::iota(layers.begin(), layers.end(), 0);
  shuffle(layers, rng);
  std::vector<int64_t> order;
  for (size_t l : layers) {
    std::vector<int64_t> ids;
    for (const auto* t : bundle.layer_trials(bundle.layers[l].name)) ids.push_back(t->id);
    shuffle(ids, rng);
    order.insert(order.end(), ids.begin(), ids.end());
  }
  return order;
}

Experiment::Experiment(const std::string& bundle_dir, const std::string& db, ExperimentOptions opt)
    : bundle_(read_bundle(bundle_dir)), opt_(std::move(opt)), db_(db, true, opt_.durable) {
  if (bundle_.trials.empty()) throw Error(bundle_dir + "/trials.json: the bundle has no trials");
  db_.bind_bundle(sha256_file(bundle_dir + "/trials.json"));
}

Participant Experiment::known(const std::string& participant) {
  auto p = db_.participant(participant);
  if (!p) throw RequestError(404, "unknown participant '" + participant + "' (join first)");
  return *p;
}

State Experiment::state_of(const Participant& p, const std::vector<Answer>& answers) const {
  State s;
  s.participant = p.id;
  if (!p.finished.empty() || answers.size() >= 2 * p.order.size()) {
    s.screen = Screen::complete;
    s.completion_code = p.finished.empty() ? opt_.completion_code : p.completion;
    s.completion_url = opt_.completion_url;
    return s;
  }
  if (p.started.empty()) return s;
  s.screen = Screen::trial;
  const size_t k = answers.size() / 2;
  const Trial& trial = bundle_.trials.at(static_cast<size_t>(p.order[k]));
  auto& v = s.trial;
  v.id = trial.id;
  v.question = answers.size() % 2 == 0 ? Question::mei : Question::mii;
  v.layer = trial.layer;
  v.number = static_cast<int64_t>(k) + 1;
  v.trials = static_cast<int64_t>(p.order.size());
  // The layer's place in this participant's order: layers are contiguous runs of the order.
  for (size_t i = 0; i <= k; ++i) {
    const auto& layer = bundle_.trials[static_cast<size_t>(p.order[i])].layer;
    if (i == 0 || layer != bundle_.trials[static_cast<size_t>(p.order[i - 1])].layer) {
      ++v.layer_number;
      v.number_in_layer = 0;
    }
    ++v.number_in_layer;
  }
  v.trials_in_layer = static_cast<int64_t>(bundle_.layer_trials(trial.layer).size());
  for (const auto& l : bundle_.layers) v.layers += bundle_.layer_trials(l.name).empty() ? 0 : 1;
  for (const auto& c : trial.examples) v.examples.push_back(c.crop);
  for (const auto& c : trial.choices) v.choices.push_back(c.crop);
  if (v.question == Question::mii) v.disabled = answers.back().choice;
  return s;
}

State Experiment::join(const Identity& who) {
  if (!who.prolific_pid.empty() && !who.participant.empty() && who.prolific_pid != who.participant) {
    throw RequestError(400, "two different participant ids: PROLIFIC_PID '" + who.prolific_pid + "' and participant '" +
                                who.participant + "'");
  }
  const std::string id = who.prolific_pid.empty() ? who.participant : who.prolific_pid;
  if (!plain_participant_id(id)) {
    throw RequestError(400, "missing or malformed participant id '" + id +
                                "' (PROLIFIC_PID or participant: 1-128 letters, digits, '_', '-' or '.')");
  }
  for (const auto* field : {&who.study_id, &who.session_id}) {
    if (!field->empty() && !plain_participant_id(*field)) {
      throw RequestError(400, "malformed STUDY_ID or SESSION_ID '" + *field + "'");
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  auto tx = db_.transaction();
  auto p = db_.participant(id);
  if (!p) {
    p.emplace();
    p->id = id;
    p->prolific_pid = who.prolific_pid;
    p->study_id = who.study_id;
    p->session_id = who.session_id;
    p->seed = fnv1a64(id);
    p->order = trial_order(bundle_, id);
    p->joined = utc_now();
    db_.add_participant(*p);
  }
  auto s = state_of(*p, db_.answers(id));
  tx.commit();
  return s;
}

State Experiment::start(const std::string& participant) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto tx = db_.transaction();
  auto p = known(participant);
  if (p.started.empty()) {
    p.started = utc_now();
    db_.set_started(p.id, p.started);
  }
  auto s = state_of(p, db_.answers(p.id));
  tx.commit();
  return s;
}

State Experiment::state(const std::string& participant) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto p = known(participant);
  return state_of(p, db_.answers(p.id));
}

AnswerResult Experiment::answer(const std::string& participant, int64_t trial, Question question, int64_t choice,
                                int64_t rt_ms) {
  const std::string who = "participant '" + participant + "'";
  if (question != Question::mei && question != Question::mii) {
    throw RequestError(400, who + ": question must be 1 (MEI) or 2 (MII)");
  }
  if (choice < 0 || choice >= 9) {
    throw RequestError(400, fmt::format("{}: choice {} is outside the trial's choices 0..8", who, choice));
  }
  if (rt_ms < 0) throw RequestError(400, fmt::format("{}: negative response time {} ms", who, rt_ms));
  if (trial < 0 || trial >= static_cast<int64_t>(bundle_.trials.size())) {
    throw RequestError(404, fmt::format("{}: no trial {} (the bundle has {})", who, trial, bundle_.trials.size()));
  }
  std::lock_guard<std::mutex> lock(mutex_);
  auto tx = db_.transaction();
  auto p = known(participant);
  auto given = db_.answers(p.id);
  const State now = state_of(p, given);
  if (now.screen == Screen::complete) {
    throw RequestError(409, who + " has finished the experiment; answers cannot be given or changed");
  }
  if (now.screen == Screen::consent) throw RequestError(409, who + " has not given consent yet");
  for (const auto& a : given) {
    if (a.trial == trial && a.question == question) {
      throw RequestError(409, fmt::format("{} already answered trial {} {}", who, trial, question_name(question)));
    }
  }
  if (now.trial.id != trial || now.trial.question != question) {
    throw RequestError(409, fmt::format("{} is at trial {} {}, not trial {} {}", who, now.trial.id,
                                        question_name(now.trial.question), trial, question_name(question)));
  }
  if (choice == now.trial.disabled) {
    throw RequestError(400, fmt::format("{}: trial {} Q2 cannot take the Q1 choice {}", who, trial, choice));
  }
  const Trial& t = bundle_.trials[static_cast<size_t>(trial)];
  Answer a;
  a.participant = p.id;
  a.trial = trial;
  a.layer = t.layer;
  a.question = question;
  a.choice = choice;
  AnswerResult r;
  r.answer = question == Question::mei ? t.mei : t.mii;
  r.correct = a.correct = choice == r.answer;
  a.rt_ms = rt_ms;
  a.at = utc_now();
  db_.add_answer(a);
  given.push_back(a);
  if (given.size() == 2 * p.order.size()) {
    p.finished = a.at;
    p.completion = opt_.completion_code;
    db_.set_finished(p.id, p.finished, p.completion);
  }
  r.next = state_of(p, given);
  tx.commit();
  return r;
}

}  // namespace tension::trials
