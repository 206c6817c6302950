#pragma once
// splitmix64 (Steele, Lea and Flood, 2014): the one small seeded generator of tension's own draws. Its values are
// the same with every compiler and standard library (std::shuffle and the std distributions are not), so that a
// seeded result can be reproduced anywhere.
#include <cstdint>
#include <utility>
#include <vector>

namespace tension {

// The next value of the sequence that `state` walks.
inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A well-spread hash of x (splitmix64's first value from state x): seeds from (seed, stream, index).
inline uint64_t splitmix64_hash(uint64_t x) { return splitmix64(x); }

// Uniform in [0, 1), 53 bits.
inline double uniform01(uint64_t& state) { return static_cast<double>(splitmix64(state) >> 11) * 0x1.0p-53; }

// Uniform in [0, n), n > 0 (multiply-shift: no modulo bias worth the name).
inline uint64_t uniform_below(uint64_t& state, uint64_t n) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(splitmix64(state)) * n) >> 64);
}

// Fisher-Yates with splitmix64 draws.
template <class T>
void shuffle(std::vector<T>& v, uint64_t& state) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[uniform_below(state, i)]);
}

}  // namespace tension
