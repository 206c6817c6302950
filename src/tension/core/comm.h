#pragma once
// The processes of one job started by an MPI launcher (mpirun, srun): which one this is, and the little they
// exchange (a barrier, a broadcast and a gather of bytes, a sum, progress counts). Without a launcher the job is
// this process alone and no MPI function is called, so a plain `tension` runs as it always did.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

namespace tension::comm {

// Starts MPI when a launcher started this process (its environment says so); first thing in main.
void init(int* argc, char*** argv);
// Ends MPI once every rank's work is done; a no-op without it.
void finalize();
// Ends every process of the job with `code`: after one rank's error the others would wait for it forever.
[[noreturn]] void abort(int code);

int rank();        // 0 ... size() - 1
int size();        // 1 without a launcher
int local_rank();  // this rank's place among the job's processes on this machine (which GPU it takes)
inline bool leader() { return rank() == 0; }  // writes the shared outputs and draws the progress
// Items numbered 0, 1, ... dealt round-robin to `parts` parts: does part `part` take item i? (The ranks of a job, and
// the shards of `--shard I/N`, deal batches this way.)
inline bool dealt_to(size_t i, size_t part, size_t parts) { return i % parts == part; }
// Does this rank take item i?
inline bool mine(size_t i) {
  return dealt_to(i, static_cast<size_t>(rank()), static_cast<size_t>(size()));
}

// This rank's share of items 0 ... n - 1 in batches of `batch_size`, the batches dealt round-robin (batch b to the
// rank with mine(b)): its items in order, and the number of each of its batches (all of them without a launcher).
struct Share {
  std::vector<size_t> items;
  std::vector<int64_t> batches;
};
Share share_of(size_t n, size_t batch_size);

void barrier();
// Rank 0's bytes, on every rank.
std::string broadcast(std::string bytes);
// Rank 0's list (of indices, say), on every rank.
template <class T>
std::vector<T> broadcast(std::vector<T> v) {
  static_assert(std::is_trivially_copyable_v<T>);
  if (size() == 1) return v;
  const auto bytes = broadcast(std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T)));
  v.resize(bytes.size() / sizeof(T));
  if (!bytes.empty()) std::memcpy(v.data(), bytes.data(), bytes.size());
  return v;
}
// Every rank's bytes in rank order, on rank 0; empty on the others.
std::vector<std::string> gather(const std::string& bytes);
// Every rank's value (a count, seconds) in rank order, on rank 0; empty on the others.
template <class T>
std::vector<T> gather(const T& value) {
  static_assert(std::is_trivially_copyable_v<T>);
  std::vector<T> out;
  for (const auto& bytes : gather(std::string(reinterpret_cast<const char*>(&value), sizeof(T)))) {
    out.emplace_back();
    std::memcpy(&out.back(), bytes.data(), sizeof(T));
  }
  return out;
}
// The sum over the ranks, on every rank.
int64_t sum(int64_t value);

// Progress of job-wide work (core/progress.h): the other ranks send their counts to rank 0, which draws one bar.
void send_progress(int64_t done, bool last);
// The counts sent since the last call (all of them, waiting until every other rank has sent its last when
// `until_last`); `finished` counts the ranks whose last count arrived.
int64_t receive_progress(bool until_last, int& finished);

}  // namespace tension::comm
