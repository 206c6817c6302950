#include "tension/core/manifest.h"

#include <opencv2/core/version.hpp>
#include <sqlite3.h>
#include <torch/version.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tension/core/comm.h"
#include "tension/core/error.h"

namespace tension {

namespace {
std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}
}  // namespace

RunManifest::RunManifest(std::string dir, std::string command, std::vector<std::string> argv)
    : dir_(std::move(dir)), start_(std::chrono::steady_clock::now()) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw Error("cannot create run folder " + dir_ + ": " + ec.message());
  char host[256] = "?";
  gethostname(host, sizeof host - 1);
  doc_["tool"] = "tension";
  doc_["version"] = "0.1.0";
  doc_["command"] = command;
  doc_["argv"] = argv;
  doc_["cwd"] = std::filesystem::current_path().string();
  doc_["host"] = host;
  doc_["hardware_threads"] = std::thread::hardware_concurrency();
  doc_["started_at"] = utc_now();
  doc_["libraries"] = {{"libtorch", TORCH_VERSION},
                       {"opencv", CV_VERSION},
                       {"sqlite", sqlite3_libversion()}};
  doc_["timings_s"] = nlohmann::json::object();
  doc_["outputs"] = nlohmann::json::object();
}

std::string RunManifest::path(const std::string& rel) const {
  return (std::filesystem::path(dir_) / rel).string();
}

RunManifest RunManifest::nested(const std::string& rel, const std::string& command) const {
  return RunManifest(path(rel), command, doc_.at("argv").get<std::vector<std::string>>());
}

void RunManifest::add_timing(const std::string& name, double seconds) { doc_["timings_s"][name] = seconds; }

void RunManifest::add_output(const std::string& rel_path, const std::string& what) {
  doc_["outputs"][rel_path] = what;
}

void RunManifest::write(const std::string& status, const std::string& error) {
  if (!comm::leader()) return;  // in a job of several ranks, rank 0 writes the run's manifest
  doc_["status"] = status;
  if (!error.empty()) doc_["error"] = error;
  doc_["finished_at"] = utc_now();
  doc_["timings_s"]["total"] =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string tmp = path("run.json.tmp");
  {
    std::ofstream f(tmp);
    if (!f) throw Error("cannot write " + tmp);
    f << doc_.dump(2) << "\n";
  }
  std::filesystem::rename(tmp, path("run.json"));
}

}  // namespace tension
