#pragma once
// Reads IDX files (the MNIST / Fashion-MNIST format), gzip-compressed or raw, with a full integrity check.
#include <cstdint>
#include <string>
#include <vector>

namespace tension::data {

struct IdxArray {
  std::vector<int64_t> dims;    // e.g. {N, H, W} for images, {N} for labels
  std::vector<uint8_t> values;  // row-major, product(dims) unsigned bytes
};

// Reads an unsigned-byte IDX file (".gz" or not: the compression is detected from the content).
// Throws tension::Error naming the file for a bad magic number, a non-ubyte type, or a byte count that
// differs from what the header announces (expected and actual sizes in the message).
IdxArray read_idx(const std::string& path);

}  // namespace tension::data
