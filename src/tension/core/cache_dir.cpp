#include "tension/core/cache_dir.h"

#include <cstdlib>

namespace tension {

std::string user_cache_dir() {
  auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v && *v ? v : "";
  };
  if (auto d = env("TENSION_CACHE_DIR"); !d.empty()) return d;
  if (auto d = env("XDG_CACHE_HOME"); !d.empty()) return d + "/tension";
  if (auto d = env("HOME"); !d.empty()) return d + "/.cache/tension";
  return "";
}

}  // namespace tension
