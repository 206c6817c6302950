#pragma once
// The run store: one SQLite database per attribution pass (RUN/store.sqlite), one row per image and per
// (image, feature, layer). Chunks commit atomically, so a pass killed at any moment resumes with nothing
// lost or duplicated. Python reads it with the standard library (sqlite3) and numpy.frombuffer('<f4').
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tension::store {

class Database;
}  // namespace tension::store

namespace tension {
class FileLock;
}

namespace tension::store {

struct ImageRecord {
  int64_t index;          // dataset index
  std::string id;         // path or FILE#i
  int64_t label = -1;
  std::string error;      // non-empty: unreadable, skipped
};

struct AttributionRecord {
  int64_t image;          // dataset index
  int64_t feature;        // index into the run's features
  int64_t layer;          // index into the run's layers
  double fv = 0, e = 0, e_pos = 0, e_neg = 0, l1 = 0, l2 = 0, l21 = 0;
  std::vector<float> phi_pos, phi_neg;  // [h, w] over the footprint (empty without positions)
  std::vector<float> channels;          // [C] S summed over positions (empty unless kept)
  std::vector<float> s;                 // [C, h, w] cropped S (empty unless kept)
};

// Which attribution rows, and which of their columns, a read returns.
struct RowQuery {
  int64_t feature = -1, layer = -1;  // -1: every one
  bool maps = false;                 // phi_pos and phi_neg
  bool blobs = false;                // channels and s as well
};

class RunStore {
 public:
  // Creates RUN/store.sqlite with `config`, or reopens it when it exists: then `config` must equal the stored
  // one (same model, data, features, layers, options), otherwise tension::Error says what differs.
  // One writer per run: while this store lives, RUN/store.lock is held, and a second writer (another process, or
  // another open_for_writing) is refused with tension::Error.
  static std::unique_ptr<RunStore> open_for_writing(const std::string& run_dir, const nlohmann::json& config);
  // Opens an existing store; tension::Error when RUN has none.
  static std::unique_ptr<RunStore> open(const std::string& run_dir);
  ~RunStore();

  const nlohmann::json& config() const { return config_; }
  // Other descriptive metadata (e.g. "layout": footprints and shapes), replaced on each set.
  void set_meta(const std::string& key, const nlohmann::json& value);
  nlohmann::json meta(const std::string& key) const;  // null when absent
  std::vector<int64_t> stored_images() const;      // dataset indices already written (readable or not)
  int64_t count_attributions() const;
  int64_t count_attributions(int64_t feature, int64_t layer) const;

  // Copies every image and row of another run's store into this one, replacing rows of the same key, in one
  // transaction (tension merge joining shards).
  void copy_rows_from(const std::string& other_run_dir);
  // Writes images and their attribution rows in one transaction (replacing any earlier copy).
  void write_chunk(const std::vector<ImageRecord>& images, const std::vector<AttributionRecord>& rows);

  std::vector<ImageRecord> images() const;          // by dataset index
  std::optional<ImageRecord> image(int64_t index) const;
  // Every attribution row, by (image, feature, layer); BLOB columns only when `with_maps`.
  std::vector<AttributionRecord> attributions(bool with_maps) const;
  // The rows a query asks for one at a time, by (image, feature, layer), none kept: memory does not grow with the
  // store (exports, selections and atlases of large runs).
  void for_each_attribution(const RowQuery& query, const std::function<void(AttributionRecord&&)>& fn) const;
  // One row by its key (feature and layer of the query), with the query's columns; nullopt when the store has none.
  std::optional<AttributionRecord> attribution(int64_t image, const RowQuery& query) const;

  static std::string db_path(const std::string& run_dir);

 private:
  RunStore(std::unique_ptr<Database> db, nlohmann::json config, std::unique_ptr<FileLock> lock = nullptr);
  std::unique_ptr<FileLock> lock_;  // held by a writer; released after the database closes
  std::unique_ptr<Database> db_;
  nlohmann::json config_;
};

}  // namespace tension::store
