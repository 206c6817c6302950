#pragma once
#include <string>

namespace tension {

// Hex SHA-256 of a file's bytes; throws tension::Error when it cannot be read.
std::string sha256_file(const std::string& path);
// Hex SHA-256 of a string.
std::string sha256_string(const std::string& data);

// Incremental hashing, for listings too large to concatenate.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t n);
  void update(const std::string& s) { update(s.data(), s.size()); }
  std::string hex();  // finishes the hash

 private:
  void* ctx_;
};

}  // namespace tension
