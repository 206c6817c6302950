#pragma once
// CSV output shared by every table tension writes (RFC 4180 quoting).
#include <string>

namespace tension {

// s as one CSV field: quoted, with quotes doubled, when it holds a comma, quote or line break.
std::string csv_field(const std::string& s);

}  // namespace tension
