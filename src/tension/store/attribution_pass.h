#pragma once
// One dataset pass of the attribution engine into a run store: resumable (images already stored are
// skipped), unreadable images recorded and skipped, progress shown.
#include <cstddef>
#include <string>

#include <vector>

#include "tension/attribution/attributor.h"
#include "tension/core/comm.h"
#include "tension/core/progress.h"
#include "tension/data/dataset.h"
#include "tension/store/run_store.h"

namespace tension::store {

// A part of a pass for machines that share no MPI (`--shard I/N`): the dataset's batches of the pass's batch size, in
// dataset order, are dealt round-robin, and this part takes those numbered index, index + count, ...
struct Shard {
  size_t index = 0, count = 1;
  bool holds(size_t image, size_t batch_size) const {
    return count == 1 || comm::dealt_to(image / batch_size, index, count);
  }
};
// "I/N" as given to --shard; throws tension::Error for anything else (I < N, N >= 1).
Shard parse_shard(const std::string& text);

struct PassOptions {
  size_t batch_size = 32;
  int decode_threads = 2;
  bool keep_channels = false;   // store S summed over positions (atlas, UMAP)
  bool keep_s = false;          // store the full cropped S (needs AttributorOptions::keep_s)
  size_t limit = 0;             // only the first `limit` items of the dataset (0 = all)
  Shard shard;                  // the part of the dataset this pass attributes (all of it by default)
};

struct PassReport {
  size_t already_stored = 0;    // skipped because an earlier (interrupted) pass stored them
  size_t processed = 0;         // attributed in this pass
  size_t unreadable = 0;        // recorded as unreadable in this pass
  size_t non_finite = 0;        // attributed, but a value was NaN or Inf: recorded as failed, no rows stored
  double seconds = 0;
  size_t rows_written = 0;      // attribution rows written to the store
  double write_seconds = 0;     // of `seconds`, spent writing them (the write path's capacity: rows_written / this)
  std::vector<double> rank_seconds;  // an MPI job: each rank's time on its own part (how evenly the work was dealt)
};

// One process's whole pass: images_to_attribute, then attribute_images with a bar of its own.
PassReport run_attribution_pass(attribution::Attributor& attributor, const data::Dataset& ds, RunStore& store,
                                const PassOptions& opt);

// The images a pass attributes, in dataset order: the first opt.limit, those of opt.shard, less those `store` holds
// already (counted in rep.already_stored).
std::vector<size_t> images_to_attribute(const data::Dataset& ds, const RunStore& store, const PassOptions& opt,
                                        PassReport& rep);

// Attributes `images` into `store` in batches of opt.batch_size (one transaction each), advancing `bar` (the
// caller finishes it); counts its work into `rep`, whose processed and non-finite counts start at zero. An
// interrupt ends it after the batch being written, with tension::Interrupted.
void attribute_images(attribution::Attributor& attributor, const data::Dataset& ds, RunStore& store,
                      const std::vector<size_t>& images, const PassOptions& opt, Progress& bar, PassReport& rep);

}  // namespace tension::store
