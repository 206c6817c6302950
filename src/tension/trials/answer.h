#pragma once
// One recorded answer of the human experiment, as the response database holds it and the analysis reads it.
#include <cstdint>
#include <string>
#include <vector>

namespace tension::trials {

enum class Question { mei = 1, mii = 2 };  // Q1 "which is the MEI?", Q2 "which is the MII?"

struct Answer {
  std::string participant;   // the participant id (PROLIFIC_PID or participant=)
  int64_t trial = 0;         // Trial::id
  std::string layer;
  Question question = Question::mei;
  int64_t choice = 0;        // index into the trial's choices
  bool correct = false;
  int64_t rt_ms = 0;         // response time in milliseconds
  std::string at;            // when it was stored, ISO 8601 UTC
};

// Every answer of the response database `db`, ordered by participant, then time. Throws tension::Error when
// the file is not a response database.
std::vector<Answer> read_answers(const std::string& db);

}  // namespace tension::trials
