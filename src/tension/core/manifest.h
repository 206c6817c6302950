#pragma once
// Every run writes run.json into its folder: what ran, with which parameters, seeds, model and data
// identities, library versions and timings, so that a result can be traced and reproduced.
#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace tension {

class RunManifest {
 public:
  // Creates `dir` (and parents). `argv` is the full command line.
  RunManifest(std::string dir, std::string command, std::vector<std::string> argv);

  const std::string& dir() const { return dir_; }
  std::string path(const std::string& rel) const;  // dir/rel
  // A run inside this one (e.g. the demo's attribution runs): run.json in dir/rel, under the same command line.
  RunManifest nested(const std::string& rel, const std::string& command) const;

  // Any JSON value under a top-level key ("params", "model", "dataset", "results", ...).
  nlohmann::json& operator[](const std::string& key) { return doc_[key]; }
  void add_timing(const std::string& name, double seconds);
  void add_output(const std::string& rel_path, const std::string& what);

  // Writes run.json (status "ok" or "failed" with the error); may be called repeatedly as work progresses. Under an
  // MPI launcher only rank 0 writes it.
  void write(const std::string& status = "ok", const std::string& error = "");

 private:
  std::string dir_;
  nlohmann::json doc_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace tension
