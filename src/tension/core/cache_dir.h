#pragma once
#include <string>

namespace tension {

// Where tension keeps what it can rebuild (plans): $TENSION_CACHE_DIR, else $XDG_CACHE_HOME/tension, else
// $HOME/.cache/tension (the XDG base directory default); empty when none of them is set. Safe to delete.
std::string user_cache_dir();

}  // namespace tension
