#include "tension/store/run_store.h"

#include <filesystem>

#include "tension/core/error.h"
#include "tension/core/file_lock.h"
#include "tension/store/sqlite_db.h"

namespace tension::store {

namespace {

const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS images (
  idx INTEGER PRIMARY KEY, id TEXT NOT NULL, label INTEGER NOT NULL, error TEXT);
CREATE TABLE IF NOT EXISTS attributions (
  image INTEGER NOT NULL, feature INTEGER NOT NULL, layer INTEGER NOT NULL,
  fv REAL, e REAL, e_pos REAL, e_neg REAL, l1 REAL, l2 REAL, l21 REAL,
  phi_pos BLOB, phi_neg BLOB, channels BLOB, s BLOB,
  PRIMARY KEY (image, feature, layer));
-- One feature's rows in dataset order, for the readers of one feature (select, atlas): without it, every read of a
-- feature scans the rows of all of them.
CREATE INDEX IF NOT EXISTS rows_by_feature ON attributions (feature, layer, image);
)";

// Stored metadata comes back from a file that may have been damaged: bad JSON is the store's fault, named as such.
nlohmann::json parse_meta(const std::string& text, const std::string& db, const std::string& key) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(db + " is damaged: its stored " + key + " is not valid JSON (" + e.what() + ")");
  }
}

void bind_floats(Statement& st, int i, const std::vector<float>& v) {
  st.bind_blob(i, v.data(), v.size() * sizeof(float));
}

}  // namespace

std::string RunStore::db_path(const std::string& run_dir) {
  return (std::filesystem::path(run_dir) / "store.sqlite").string();
}

RunStore::RunStore(std::unique_ptr<Database> db, nlohmann::json config, std::unique_ptr<FileLock> lock)
    : lock_(std::move(lock)), db_(std::move(db)), config_(std::move(config)) {}

RunStore::~RunStore() = default;

namespace {

// The layout of the tables. A store without the key predates it and has this layout.
constexpr int kStoreSchema = 1;

void check_schema(Database& db, const std::string& run_dir) {
  auto get = db.prepare("SELECT value FROM meta WHERE key = 'schema'");
  if (get.step() && get.text_col(0) != std::to_string(kStoreSchema)) {
    throw Error("run " + run_dir + " was written with store schema " + get.text_col(0) + ", and this tension reads "
                "schema " + std::to_string(kStoreSchema) + ": use the tension that wrote it, or attribute again");
  }
}

}  // namespace

std::unique_ptr<RunStore> RunStore::open_for_writing(const std::string& run_dir, const nlohmann::json& config) {
  std::filesystem::create_directories(run_dir);
  auto lock = std::make_unique<FileLock>((std::filesystem::path(run_dir) / "store.lock").string(), "run " + run_dir);
  auto db = std::make_unique<Database>(db_path(run_dir), true);
  db->exec(kSchema);
  check_schema(*db, run_dir);
  auto get = db->prepare("SELECT value FROM meta WHERE key = 'config'");
  if (get.step()) {
    auto stored = parse_meta(get.text_col(0), db_path(run_dir), "config");
    if (stored != config) {
      auto diff = nlohmann::json::diff(stored, config);
      throw Error("run " + run_dir + " holds a pass with another configuration; use a new --out folder, or "
                  "the same options to resume (differences: " + diff.dump() + ")");
    }
  } else {
    db->prepare("INSERT INTO meta (key, value) VALUES ('config', ?)").bind(1, config.dump()).run();
    db->prepare("INSERT INTO meta (key, value) VALUES ('schema', ?)").bind(1, std::to_string(kStoreSchema)).run();
  }
  return std::unique_ptr<RunStore>(new RunStore(std::move(db), config, std::move(lock)));
}

std::unique_ptr<RunStore> RunStore::open(const std::string& run_dir) {
  if (!std::filesystem::exists(db_path(run_dir))) throw Error("no run store in " + run_dir);
  auto db = std::make_unique<Database>(db_path(run_dir), false);
  check_schema(*db, run_dir);
  auto get = db->prepare("SELECT value FROM meta WHERE key = 'config'");
  if (!get.step()) throw Error(db_path(run_dir) + " has no configuration: not a tension run store");
  auto config = parse_meta(get.text_col(0), db_path(run_dir), "config");
  return std::unique_ptr<RunStore>(new RunStore(std::move(db), std::move(config)));
}

void RunStore::set_meta(const std::string& key, const nlohmann::json& value) {
  if (key == "config") throw Error("the run configuration is fixed when the store is created");
  db_->prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)").bind(1, key).bind(2, value.dump()).run();
}

nlohmann::json RunStore::meta(const std::string& key) const {
  auto st = db_->prepare("SELECT value FROM meta WHERE key = ?");
  st.bind(1, key);
  return st.step() ? parse_meta(st.text_col(0), db_->path(), key) : nlohmann::json();
}

std::vector<int64_t> RunStore::stored_images() const {
  std::vector<int64_t> out;
  auto st = db_->prepare("SELECT idx FROM images ORDER BY idx");
  while (st.step()) out.push_back(st.int_col(0));
  return out;
}

int64_t RunStore::count_attributions() const {
  auto st = db_->prepare("SELECT COUNT(*) FROM attributions");
  st.step();
  return st.int_col(0);
}

void RunStore::write_chunk(const std::vector<ImageRecord>& images, const std::vector<AttributionRecord>& rows) {
  Transaction tx(*db_);
  auto img = db_->prepare("INSERT OR REPLACE INTO images (idx, id, label, error) VALUES (?, ?, ?, ?)");
  for (const auto& r : images) {
    img.bind(1, r.index).bind(2, r.id).bind(3, r.label);
    if (r.error.empty()) {
      img.bind_null(4);
    } else {
      img.bind(4, r.error);
    }
    img.run();
  }
  auto att = db_->prepare(
      "INSERT OR REPLACE INTO attributions (image, feature, layer, fv, e, e_pos, e_neg, l1, l2, l21, phi_pos, "
      "phi_neg, channels, s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  for (const auto& r : rows) {
    att.bind(1, r.image).bind(2, r.feature).bind(3, r.layer).bind(4, r.fv).bind(5, r.e).bind(6, r.e_pos);
    att.bind(7, r.e_neg).bind(8, r.l1).bind(9, r.l2).bind(10, r.l21);
    bind_floats(att, 11, r.phi_pos);
    bind_floats(att, 12, r.phi_neg);
    bind_floats(att, 13, r.channels);
    bind_floats(att, 14, r.s);
    att.run();
  }
  tx.commit();
}

void RunStore::copy_rows_from(const std::string& other_run_dir) {
  db_->prepare("ATTACH DATABASE ? AS part").bind(1, db_path(other_run_dir)).run();
  struct Detach {  // after the transaction below has committed or rolled back
    Database& db;
    ~Detach() {
      try {
        db.exec("DETACH DATABASE part");
      } catch (const Error&) {  // the connection closes with the store; nothing is left attached for long
      }
    }
  } detach{*db_};
  Transaction tx(*db_);
  db_->exec("INSERT OR REPLACE INTO images (idx, id, label, error) SELECT idx, id, label, error FROM part.images");
  db_->exec(
      "INSERT OR REPLACE INTO attributions (image, feature, layer, fv, e, e_pos, e_neg, l1, l2, l21, phi_pos, "
      "phi_neg, channels, s) SELECT image, feature, layer, fv, e, e_pos, e_neg, l1, l2, l21, phi_pos, phi_neg, "
      "channels, s FROM part.attributions");
  tx.commit();
}

namespace {

constexpr const char* kImageSelect = "SELECT idx, id, label, error FROM images";

ImageRecord image_of(const Statement& st) { return {st.int_col(0), st.text_col(1), st.int_col(2), st.text_col(3)}; }

}  // namespace

std::vector<ImageRecord> RunStore::images() const {
  std::vector<ImageRecord> out;
  auto st = db_->prepare(std::string(kImageSelect) + " ORDER BY idx");
  while (st.step()) out.push_back(image_of(st));
  return out;
}

std::optional<ImageRecord> RunStore::image(int64_t index) const {
  auto st = db_->prepare(std::string(kImageSelect) + " WHERE idx = ?");
  st.bind(1, index);
  if (!st.step()) return std::nullopt;
  return image_of(st);
}

int64_t RunStore::count_attributions(int64_t feature, int64_t layer) const {
  auto st = db_->prepare("SELECT COUNT(*) FROM attributions WHERE feature = ? AND layer = ?");
  st.bind(1, feature).bind(2, layer);
  st.step();
  return st.int_col(0);
}

namespace {

// The SELECT of a query's columns, with `where` (conditions on ?1 image, ?2 feature, ?3 layer) and `tail`.
std::string row_select(const RowQuery& q, const std::string& where, const std::string& tail) {
  return std::string("SELECT image, feature, layer, fv, e, e_pos, e_neg, l1, l2, l21") +
         (q.maps ? ", phi_pos, phi_neg" : "") + (q.blobs ? ", channels, s" : "") + " FROM attributions" +
         (where.empty() ? "" : " WHERE " + where) + tail;
}

AttributionRecord row_of(const Statement& st, const RowQuery& q) {
  AttributionRecord r;
  r.image = st.int_col(0);
  r.feature = st.int_col(1);
  r.layer = st.int_col(2);
  r.fv = st.double_col(3);
  r.e = st.double_col(4);
  r.e_pos = st.double_col(5);
  r.e_neg = st.double_col(6);
  r.l1 = st.double_col(7);
  r.l2 = st.double_col(8);
  r.l21 = st.double_col(9);
  int col = 10;
  if (q.maps) {
    r.phi_pos = st.floats_col(col++);
    r.phi_neg = st.floats_col(col++);
  }
  if (q.blobs) {
    r.channels = st.floats_col(col++);
    r.s = st.floats_col(col++);
  }
  return r;
}

}  // namespace

void RunStore::for_each_attribution(const RowQuery& q, const std::function<void(AttributionRecord&&)>& fn) const {
  std::string where;
  if (q.feature >= 0) where = "feature = ?2";
  if (q.layer >= 0) where += std::string(where.empty() ? "" : " AND ") + "layer = ?3";
  auto st = db_->prepare(row_select(q, where, " ORDER BY image, feature, layer"));
  if (q.feature >= 0) st.bind(2, q.feature);
  if (q.layer >= 0) st.bind(3, q.layer);
  while (st.step()) fn(row_of(st, q));
}

std::optional<AttributionRecord> RunStore::attribution(int64_t image, const RowQuery& q) const {
  auto st = db_->prepare(row_select(q, "image = ?1 AND feature = ?2 AND layer = ?3", ""));
  st.bind(1, image).bind(2, q.feature).bind(3, q.layer);
  if (!st.step()) return std::nullopt;
  return row_of(st, q);
}

std::vector<AttributionRecord> RunStore::attributions(bool with_maps) const {
  std::vector<AttributionRecord> out;
  RowQuery q;
  q.maps = q.blobs = with_maps;
  for_each_attribution(q, [&](AttributionRecord&& r) { out.push_back(std::move(r)); });
  return out;
}

}  // namespace tension::store
