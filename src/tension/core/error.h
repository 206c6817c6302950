#pragma once
// The one exception type for bad user input (missing file, unknown layer, wrong shape...):
// the CLI prints its message alone and exits non-zero; anything else is a bug and prints as one.
#include <stdexcept>
#include <string>

namespace tension {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace tension
