#pragma once
// Ctrl-C (SIGINT) and SIGTERM during long work. The first signal asks the work to stop at its next safe point: a
// dataset pass commits the batch in hand, finishes its progress line and throws Interrupted, which the CLI turns
// into a message and exit status 128 + the signal's number; the same command then resumes. A second signal ends
// the process at once, as without the handlers.
#include <string>

#include "tension/core/error.h"

namespace tension {

struct Interrupted : Error {
  Interrupted(int signal, const std::string& message) : Error(message), signal(signal) {}
  int signal;
};

// Installs the handlers (the CLI does, once, at start). Also ignores SIGXFSZ, so that a write past a file size
// limit fails with an error the store reports (EFBIG) instead of killing the process.
void install_interrupt_handlers();

// The signal that asked to stop, or 0.
int interrupt_requested();

// Throws Interrupted when a signal asked to stop: "interrupted by SIGINT: `done`; `resume`".
void check_interrupt(const std::string& done, const std::string& resume);

}  // namespace tension
