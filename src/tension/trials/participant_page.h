#pragma once
// The participant page of the experiment server (paper Fig 9): one self-contained HTML document (CSS and JS
// inline, no external requests) that talks to the server's JSON API (server.h).
#include <string>

namespace tension::trials {

const std::string& participant_page();

}  // namespace tension::trials
