#pragma once
// Progress of long work: a bar with rate and ETA redrawn in place on a terminal, periodic log lines otherwise.
#include <chrono>
#include <cstddef>
#include <string>

namespace tension {

class Progress {
 public:
  Progress(std::string label, size_t total, std::string unit = "it");
  ~Progress();  // finishes the line if the caller did not
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void advance(size_t n = 1);
  void finish();
  double elapsed_seconds() const;

 private:
  void draw(bool final);

  std::string label_, unit_;
  size_t total_, done_ = 0, drawn_ = static_cast<size_t>(-1);  // drawn_: done_ at the last line drawn
  bool tty_, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
  int last_decile_ = -1;
};

// "1m23s", "4.2s": for ETAs and timings in messages.
std::string format_duration(double seconds);

}  // namespace tension
