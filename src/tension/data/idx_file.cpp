#include "tension/data/idx_file.h"

#include <fmt/format.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>

#include "tension/core/error.h"

namespace tension::data {

namespace {

constexpr uint8_t kUnsignedByte = 0x08;

// The whole (decompressed) content. zlib reads gzip members and, transparently, uncompressed files.
std::vector<uint8_t> read_content(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) throw Error("IDX file " + path + " does not exist");
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw Error("cannot open IDX file " + path);
  std::vector<uint8_t> out;
  uint8_t buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.insert(out.end(), buf, buf + n);
  // At the end of input zlib reports Z_BUF_ERROR when a gzip stream stopped in the middle.
  int err = Z_OK;
  std::string msg = gzerror(f, &err);
  gzclose(f);
  if (n < 0 || err == Z_BUF_ERROR)
    throw Error("cannot read IDX file " + path + ": " + msg + " (corrupt or truncated gzip stream)");
  return out;
}

uint32_t big_endian_u32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

}  // namespace

IdxArray read_idx(const std::string& path) {
  std::vector<uint8_t> content = read_content(path);
  if (content.size() < 4 || content[0] != 0 || content[1] != 0)
    throw Error("IDX file " + path + " has a bad magic number (not an IDX file)");
  if (content[2] != kUnsignedByte)
    throw Error(
        fmt::format("IDX file {} holds type 0x{:02x}; only unsigned bytes (0x08) are supported", path, content[2]));
  size_t ndims = content[3];
  size_t header = 4 + 4 * ndims;
  if (ndims == 0) throw Error("IDX file " + path + " declares no dimensions");
  if (content.size() < header)
    throw Error("IDX file " + path + " is truncated: its header needs " + std::to_string(header) + " bytes, found " +
                std::to_string(content.size()));
  IdxArray a;
  size_t count = 1;
  std::string shape;
  bool overflow = false;
  for (size_t d = 0; d < ndims; ++d) {
    size_t dim = big_endian_u32(&content[4 + 4 * d]);
    a.dims.push_back(int64_t(dim));
    overflow = overflow || (dim != 0 && count > (SIZE_MAX - header) / dim);
    count *= dim;
    shape += (d ? "x" : "") + std::to_string(dim);
  }
  if (overflow) throw Error("IDX file " + path + " announces a " + shape + " array, which is impossibly large");
  size_t expected = header + count;
  if (content.size() != expected)
    throw Error("IDX file " + path + (content.size() < expected ? " is truncated" : " has trailing data") + ": a " +
                shape + " array needs " + std::to_string(expected) + " bytes, found " + std::to_string(content.size()));
  content.erase(content.begin(), content.begin() + header);
  a.values = std::move(content);
  return a;
}

}  // namespace tension::data
