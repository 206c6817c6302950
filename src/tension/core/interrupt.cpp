#include "tension/core/interrupt.h"

#include <signal.h>

#include <atomic>
#include <cstring>

namespace tension {

namespace {

std::atomic<int> requested{0};

void on_signal(int sig) {
  if (requested.exchange(sig) != 0) {
    // The second signal: no more waiting for a safe point.
    ::signal(sig, SIG_DFL);
    ::raise(sig);
  }
}

}  // namespace

void install_interrupt_handlers() {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  ::signal(SIGXFSZ, SIG_IGN);
}

int interrupt_requested() { return requested.load(); }

void check_interrupt(const std::string& done, const std::string& resume) {
  const int sig = requested.load();
  if (sig == 0) return;
  throw Interrupted(sig, std::string("interrupted by ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ": " + done +
                             "; " + resume);
}

}  // namespace tension
