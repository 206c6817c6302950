#pragma once
// The experiment server (`tension trials serve`): the participant page, the bundle's crops and a small JSON API
// over one Experiment (experiment.h), with cpp-httplib. It writes nothing but the response database.
//
//   GET  /                      the participant page (?PROLIFIC_PID=&STUDY_ID=&SESSION_ID= or ?participant=)
//   GET  /crops/<id>.png        a crop of the bundle (only ids the bundle lists; nothing else is served)
//   POST /api/join              {"PROLIFIC_PID", "STUDY_ID", "SESSION_ID"} or {"participant"} -> state
//   POST /api/start             {"participant"} (consent given) -> state
//   GET  /api/state?participant=ID                                -> state
//   POST /api/answer            {"participant", "trial", "question": 1|2, "choice": 0..8, "rt_ms"}
//                               -> {"correct", "answer": the correct choice, "state"}
// A state is {"participant", "screen": "consent"|"trial"|"complete", "trial": {...}, "completion": {...}}
// (to_json in experiment.h). A bad request gets a 4xx and {"error": MESSAGE} and changes nothing.
#include <nlohmann/json.hpp>

#include <string>

namespace tension::trials {

struct ServeOptions {
  std::string bundle;              // the trial bundle's folder
  std::string db;                  // the response database (created when missing)
  std::string host = "127.0.0.1";  // a real study puts a TLS reverse proxy in front (README)
  int port = 8080;                 // 0: any free port (the printed URL says which)
  std::string completion_url;      // linked from the completion screen
  std::string completion_code;     // shown on the completion screen
  size_t max_body = 4096;          // bytes; larger request bodies get 413
  int threads = 32;                // worker threads (a keep-alive connection holds one)
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ServeOptions, bundle, db, host, port, completion_url, completion_code, max_body,
                                   threads)

// Serves until SIGINT or SIGTERM, then returns. Prints the URL once listening. Throws tension::Error when the
// bundle or database cannot be opened or the address cannot be bound.
void serve(const ServeOptions& opt);

}  // namespace tension::trials
