#include "tension/core/comm.h"

// The C API only: Open MPI's and MPICH's mpi.h would otherwise bring their deprecated C++ bindings into C++.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <cstdlib>

#include "tension/core/error.h"

namespace tension::comm {

namespace {

struct World {
  bool active = false;  // MPI_Init was called
  int rank = 0, size = 1, local_rank = 0;
};
World world;

// Point-to-point messages: progress counts to rank 0, and gathers.
constexpr int kProgressTag = 7001;
constexpr int kGatherTag = 7002;

// Open MPI's mpirun, Slurm's srun (PMI-2 or PMIx) and MPICH's hydra each say so in the environment.
bool launched() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK"}) {
    if (std::getenv(v)) return true;
  }
  return false;
}

void check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) throw Error(std::string("MPI: ") + what + " failed");
}

// Messages of at most 1 GiB: MPI counts are ints, and a dataset pass can gather more than 2 GiB of tensors.
constexpr size_t kChunk = size_t{1} << 30;

int chunk_at(size_t size, size_t at) { return static_cast<int>(std::min(kChunk, size - at)); }

}  // namespace

void init(int* argc, char*** argv) {
  if (world.active || !launched()) return;
  int provided = 0;
  // Only the main thread calls MPI; torch's and the loader's threads never do.
  check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  world.active = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &world.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world.size);
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, world.rank, MPI_INFO_NULL, &node);
  MPI_Comm_rank(node, &world.local_rank);
  MPI_Comm_free(&node);
}

void finalize() {
  if (!world.active) return;
  MPI_Finalize();
  world.active = false;
}

void abort(int code) {
  if (world.active && world.size > 1) MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

Share share_of(size_t n, size_t batch_size) {
  if (batch_size == 0) throw Error("batch size must be positive");
  Share s;
  for (size_t b = 0; b * batch_size < n; ++b) {
    if (!mine(b)) continue;
    s.batches.push_back(static_cast<int64_t>(b));
    for (size_t i = b * batch_size; i < std::min(n, (b + 1) * batch_size); ++i) s.items.push_back(i);
  }
  return s;
}

int rank() { return world.rank; }
int size() { return world.size; }
int local_rank() { return world.local_rank; }

void barrier() {
  if (world.size > 1) check(MPI_Barrier(MPI_COMM_WORLD), "barrier");
}

std::string broadcast(std::string bytes) {
  if (world.size == 1) return bytes;
  uint64_t n = bytes.size();
  check(MPI_Bcast(&n, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD), "broadcast");
  bytes.resize(n);
  for (size_t at = 0; at < n; at += kChunk) {
    check(MPI_Bcast(bytes.data() + at, chunk_at(n, at), MPI_BYTE, 0, MPI_COMM_WORLD), "broadcast");
  }
  return bytes;
}

// Rank by rank, point to point: rank 0 holds one rank's bytes in flight at a time, whatever their total.
std::vector<std::string> gather(const std::string& bytes) {
  if (world.size == 1) return {bytes};
  if (world.rank != 0) {
    uint64_t n = bytes.size();
    check(MPI_Send(&n, 1, MPI_UINT64_T, 0, kGatherTag, MPI_COMM_WORLD), "gather");
    for (size_t at = 0; at < n; at += kChunk) {
      check(MPI_Send(bytes.data() + at, chunk_at(n, at), MPI_BYTE, 0, kGatherTag, MPI_COMM_WORLD), "gather");
    }
    return {};
  }
  std::vector<std::string> out{bytes};
  for (int r = 1; r < world.size; ++r) {
    uint64_t n = 0;
    check(MPI_Recv(&n, 1, MPI_UINT64_T, r, kGatherTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "gather");
    std::string theirs(n, '\0');
    for (size_t at = 0; at < n; at += kChunk) {
      check(MPI_Recv(theirs.data() + at, chunk_at(n, at), MPI_BYTE, r, kGatherTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
            "gather");
    }
    out.push_back(std::move(theirs));
  }
  return out;
}

int64_t sum(int64_t value) {
  if (world.size == 1) return value;
  int64_t total = 0;
  check(MPI_Allreduce(&value, &total, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD), "sum");
  return total;
}

void send_progress(int64_t done, bool last) {
  if (world.size == 1 || world.rank == 0) return;
  const int64_t msg[2] = {done, last ? 1 : 0};
  check(MPI_Send(msg, 2, MPI_INT64_T, 0, kProgressTag, MPI_COMM_WORLD), "progress");
}

int64_t receive_progress(bool until_last, int& finished) {
  if (world.size == 1 || world.rank != 0) return 0;
  int64_t done = 0;
  for (;;) {
    int waiting = 0;
    MPI_Status status;
    if (until_last && finished < world.size - 1) {
      check(MPI_Probe(MPI_ANY_SOURCE, kProgressTag, MPI_COMM_WORLD, &status), "progress");
      waiting = 1;
    } else {
      check(MPI_Iprobe(MPI_ANY_SOURCE, kProgressTag, MPI_COMM_WORLD, &waiting, &status), "progress");
    }
    if (!waiting) return done;
    int64_t msg[2];
    check(MPI_Recv(msg, 2, MPI_INT64_T, status.MPI_SOURCE, kProgressTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
          "progress");
    done += msg[0];
    finished += static_cast<int>(msg[1]);
  }
}

}  // namespace tension::comm
