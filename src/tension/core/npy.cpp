#include "tension/core/npy.h"

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "tension/core/error.h"

namespace tension {

namespace {

const char kMagic[] = "\x93NUMPY";

std::string descr_of(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat32: return "<f4";
    case torch::kFloat64: return "<f8";
    case torch::kInt32: return "<i4";
    case torch::kInt64: return "<i8";
    case torch::kUInt8: return "|u1";
    case torch::kBool: return "|b1";
    default: throw Error(std::string("cannot write dtype ") + c10::toString(t) + " to .npy");
  }
}

torch::ScalarType dtype_of(const std::string& d, const std::string& path) {
  std::string kind = d.substr(1);
  if (kind == "f4") return torch::kFloat32;
  if (kind == "f8") return torch::kFloat64;
  if (kind == "i4") return torch::kInt32;
  if (kind == "i8") return torch::kInt64;
  if (kind == "u1") return torch::kUInt8;
  if (kind == "b1") return torch::kBool;
  throw Error(path + ": unsupported .npy dtype '" + d + "'");
}

}  // namespace

void write_npy(const std::string& path, const torch::Tensor& t) {
  auto c = t.detach().cpu().contiguous();
  std::ostringstream shape;
  shape << "(";
  for (int64_t i = 0; i < c.dim(); ++i) shape << c.size(i) << (c.dim() == 1 ? "," : (i + 1 < c.dim() ? ", " : ""));
  shape << ")";
  std::string header = "{'descr': '" + descr_of(c.scalar_type()) + "', 'fortran_order': False, 'shape': " +
                       shape.str() + ", }";
  // Magic (6) + version (2) + header length (2) + header + '\n', padded to a multiple of 64.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::ofstream f(path, std::ios::binary);
  if (!f) throw Error("cannot write " + path);
  f.write(kMagic, 6);
  const char version[2] = {1, 0};
  f.write(version, 2);
  uint16_t len = static_cast<uint16_t>(header.size());
  const char len_le[2] = {static_cast<char>(len & 0xff), static_cast<char>(len >> 8)};
  f.write(len_le, 2);
  f.write(header.data(), static_cast<std::streamsize>(header.size()));
  f.write(static_cast<const char*>(c.data_ptr()), static_cast<std::streamsize>(c.nbytes()));
  if (!f) throw Error("cannot write " + path);
}

torch::Tensor read_npy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error("cannot read " + path);
  char magic[6];
  unsigned char ver[2];
  f.read(magic, 6);
  f.read(reinterpret_cast<char*>(ver), 2);
  if (!f || std::string(magic, 6) != std::string(kMagic, 6)) throw Error(path + " is not a .npy file");
  if (ver[0] < 1 || ver[0] > 3) throw Error(path + ": unsupported .npy version " + std::to_string(ver[0]));
  uint32_t hlen = 0;
  unsigned char b[4] = {0, 0, 0, 0};
  f.read(reinterpret_cast<char*>(b), ver[0] == 1 ? 2 : 4);
  hlen = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<uint32_t>(b[3]) << 24);
  // NumPy reads headers of at most 10000 bytes (np.load's max_header_size); the regular expressions below recurse
  // per character and could overflow the stack on a much longer one.
  if (hlen > 10000) throw Error(path + ": .npy header of " + std::to_string(hlen) + " bytes (at most 10000 are read)");
  // Sizes announced by the file are checked against its length before anything is allocated for them.
  std::error_code ec;
  const uint64_t file_size = std::filesystem::file_size(path, ec);
  const uint64_t header_end = (ver[0] == 1 ? 10 : 12) + uint64_t{hlen};
  if (ec || header_end > file_size) throw Error(path + ": truncated .npy header");
  std::string header(hlen, '\0');
  f.read(header.data(), hlen);
  if (!f) throw Error(path + ": truncated .npy header");
  std::smatch m;
  if (!std::regex_search(header, m, std::regex("'descr':\\s*'([<>|=])([a-z][0-9]+)'"))) {
    throw Error(path + ": .npy header has no descr");
  }
  char order = m[1].str()[0];
  auto dtype = dtype_of(m[1].str() + m[2].str(), path);
  bool fortran = std::regex_search(header, std::regex("'fortran_order':\\s*True"));
  if (!std::regex_search(header, m, std::regex("'shape':\\s*\\(([^)]*)\\)"))) {
    throw Error(path + ": .npy header has no shape");
  }
  std::vector<int64_t> shape;
  std::string dims = m[1];
  static const std::regex number("[0-9]+");
  // The data must hold the shape's elements; an empty array's other dimensions need only keep int64 products.
  const uint64_t data_bytes = file_size - header_end;
  const uint64_t max_numel = data_bytes / c10::elementSize(dtype);
  bool empty = false, too_large = false;
  uint64_t nonzero = 1;
  for (std::sregex_iterator it(dims.begin(), dims.end(), number), end; it != end; ++it) {
    uint64_t dim = it->str().size() > 18 ? UINT64_MAX : std::stoull(it->str());
    if (dim > static_cast<uint64_t>(INT64_MAX) || (dim && nonzero > static_cast<uint64_t>(INT64_MAX) / dim)) {
      throw Error(path + ": .npy shape (" + dims + ") is out of range");
    }
    if (dim == 0) empty = true;
    nonzero *= dim ? dim : 1;
    too_large = too_large || nonzero > max_numel;
    shape.push_back(static_cast<int64_t>(dim));
  }
  if (!empty && too_large) {
    throw Error(path + ": truncated .npy data (shape (" + dims + ") of " + c10::toString(dtype) + " needs more than the " +
                std::to_string(data_bytes) + " bytes after the header)");
  }
  auto t = torch::empty(fortran ? std::vector<int64_t>(shape.rbegin(), shape.rend()) : shape,
                        torch::TensorOptions().dtype(dtype));
  f.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(t.nbytes()));
  if (f.gcount() != static_cast<std::streamsize>(t.nbytes())) {
    throw Error(path + ": truncated .npy data (" + std::to_string(t.nbytes()) + " bytes expected)");
  }
  if (order == '>' && t.element_size() > 1 && t.numel() > 0) {
    // Reverse the bytes of every element.
    auto bytes = t.view(torch::kUInt8).view({-1, static_cast<int64_t>(t.element_size())}).flip({1}).contiguous();
    t = bytes.view(dtype).view(t.sizes());
  }
  if (fortran) {
    std::vector<int64_t> perm;
    for (int64_t i = t.dim() - 1; i >= 0; --i) perm.push_back(i);
    t = t.permute(perm).contiguous();
  }
  return t;
}

}  // namespace tension
