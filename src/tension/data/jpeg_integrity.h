#pragma once
// Detects truncated JPEG files. libjpeg decodes a file cut short without failing (it warns and pads the
// missing rows with grey), whereas PIL refuses it; walking the marker structure finds the missing end.
#include <cstddef>

namespace tension::data {

// True when the JPEG stream in data[0, n) reaches its end-of-image marker. Segments are skipped by their
// lengths and entropy-coded data by its byte stuffing, so an embedded thumbnail's marker is not mistaken
// for the end, and bytes after the end (some cameras append data) are allowed.
bool jpeg_complete(const unsigned char* data, size_t n);

}  // namespace tension::data
