#include "tension/data/jpeg_integrity.h"

namespace tension::data {

namespace {

constexpr unsigned char kSoi = 0xD8, kEoi = 0xD9, kSos = 0xDA, kTem = 0x01;

bool is_restart(unsigned char m) { return m >= 0xD0 && m <= 0xD7; }

// From just after an SOS header, the position of the next marker's 0xFF (n when there is none).
// Inside entropy-coded data 0xFF is followed by a stuffed 0x00, a restart marker or fill bytes.
size_t skip_entropy_coded(const unsigned char* d, size_t pos, size_t n) {
  while (pos + 1 < n) {
    if (d[pos] != 0xFF) {
      ++pos;
      continue;
    }
    unsigned char next = d[pos + 1];
    if (next == 0x00 || is_restart(next) || next == 0xFF) {
      pos += next == 0xFF ? 1 : 2;
      continue;
    }
    return pos;
  }
  return n;
}

}  // namespace

bool jpeg_complete(const unsigned char* d, size_t n) {
  if (n < 2 || d[0] != 0xFF || d[1] != kSoi) return false;
  size_t pos = 2;
  while (pos < n) {
    // Like libjpeg, tolerate garbage before a marker: resynchronise on the next 0xFF.
    while (pos < n && d[pos] != 0xFF) ++pos;
    while (pos < n && d[pos] == 0xFF) ++pos;  // fill bytes
    if (pos >= n) return false;
    unsigned char marker = d[pos++];
    if (marker == kEoi) return true;
    if (marker == kTem || is_restart(marker) || marker == 0x00) continue;
    if (pos + 2 > n) return false;
    size_t length = (size_t(d[pos]) << 8) | d[pos + 1];
    if (length < 2 || pos + length > n) return false;
    pos += length;
    if (marker == kSos) pos = skip_entropy_coded(d, pos, n);
  }
  return false;
}

}  // namespace tension::data
