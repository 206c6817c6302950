#include "tension/core/progress.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <exception>

#include "tension/core/comm.h"

namespace tension {

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(s) / 3600, (static_cast<int>(s) / 60) % 60);
  }
  return buf;
}

Progress::Progress(std::string label, size_t total, std::string unit, Scope scope)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), tty_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()), last_draw_(start_), job_(scope == Scope::job && comm::size() > 1) {}

// Unwinding after an error, a job-wide bar must not wait for the other ranks: the job is being aborted.
Progress::~Progress() {
  if (!job_ || std::uncaught_exceptions() == 0) finish();
}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::collect(bool until_last) {
  done_ += static_cast<size_t>(comm::receive_progress(until_last, finished_ranks_));
}

void Progress::advance(size_t n) {
  auto now = std::chrono::steady_clock::now();
  if (job_ && !comm::leader()) {
    // At most a few messages a second, whatever the batch size.
    unsent_ += n;
    if (now - last_draw_ > std::chrono::milliseconds(250)) {
      comm::send_progress(static_cast<int64_t>(unsent_), false);
      unsent_ = 0;
      last_draw_ = now;
    }
    return;
  }
  done_ += n;
  if (job_) collect(false);
  if (tty_) {
    if (now - last_draw_ > std::chrono::milliseconds(100) || done_ >= total_) draw(false);
  } else {
    int decile = total_ ? static_cast<int>(10 * done_ / total_) : 0;
    if (decile != last_decile_ || now - last_draw_ > std::chrono::seconds(30)) {
      last_decile_ = decile;
      draw(false);
    }
  }
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (job_ && !comm::leader()) {
    comm::send_progress(static_cast<int64_t>(unsent_), true);
    return;
  }
  if (job_) collect(true);
  // A log line for the final count is already out when the last advance drew it.
  if (tty_ || drawn_ != done_) draw(true);
}

void Progress::draw(bool final) {
  last_draw_ = std::chrono::steady_clock::now();
  drawn_ = done_;
  double t = elapsed_seconds();
  double rate = t > 0 ? done_ / t : 0;
  double eta = rate > 0 && total_ > done_ ? (total_ - done_) / rate : 0;
  double frac = total_ ? std::min(1.0, static_cast<double>(done_) / total_) : 1.0;
  char stats[160];
  std::snprintf(stats, sizeof stats, "%zu/%zu %s  %.1f %s/s  elapsed %s  eta %s", done_, total_,
                unit_.c_str(), rate, unit_.c_str(), format_duration(t).c_str(),
                final ? "0s" : format_duration(eta).c_str());
  if (tty_) {
    const int width = 30;
    int filled = static_cast<int>(frac * width);
    std::string bar(filled, '#');
    bar += std::string(width - filled, '.');
    std::fprintf(stderr, "\r%s [%s] %3d%% %s\033[K%s", label_.c_str(), bar.c_str(),
                 static_cast<int>(frac * 100), stats, final ? "\n" : "");
    std::fflush(stderr);
  } else {
    spdlog::info("{} {:3d}% {}", label_, static_cast<int>(frac * 100), stats);
  }
}

}  // namespace tension
