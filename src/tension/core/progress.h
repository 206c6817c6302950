#pragma once
// Progress of long work: a bar with rate and ETA redrawn in place on a terminal, periodic log lines otherwise.
#include <chrono>
#include <cstddef>
#include <string>

namespace tension {

class Progress {
 public:
  // Work of this process alone, or of the whole job (`Scope::job`, core/comm.h): then every rank constructs the bar
  // with the job's total and advances it by its own work; rank 0 draws the sum (rate and ETA of all ranks), and its
  // finish() waits for every rank's.
  enum class Scope { process, job };
  Progress(std::string label, size_t total, std::string unit = "it", Scope scope = Scope::process);
  ~Progress();  // finishes the line if the caller did not
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void advance(size_t n = 1);
  void finish();
  double elapsed_seconds() const;

 private:
  void draw(bool final);
  void collect(bool until_last);  // rank 0 of a job: adds the counts the other ranks sent


  std::string label_, unit_;
  size_t total_, done_ = 0, drawn_ = static_cast<size_t>(-1);  // drawn_: done_ at the last line drawn
  bool tty_, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
  int last_decile_ = -1;
  bool job_ = false;      // a job-wide bar over several ranks
  size_t unsent_ = 0;     // ranks other than 0: work not yet sent to rank 0
  int finished_ranks_ = 0;
};

// "1m23s", "4.2s": for ETAs and timings in messages.
std::string format_duration(double seconds);

}  // namespace tension
