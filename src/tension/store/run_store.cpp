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

std::vector<ImageRecord> RunStore::images() const {
  std::vector<ImageRecord> out;
  auto st = db_->prepare("SELECT idx, id, label, error FROM images ORDER BY idx");
  while (st.step()) out.push_back({st.int_col(0), st.text_col(1), st.int_col(2), st.text_col(3)});
  return out;
}

void RunStore::for_each_attribution(bool with_maps, const std::function<void(AttributionRecord&&)>& fn) const {
  auto st = db_->prepare(std::string("SELECT image, feature, layer, fv, e, e_pos, e_neg, l1, l2, l21") +
                         (with_maps ? ", phi_pos, phi_neg, channels, s" : "") +
                         " FROM attributions ORDER BY image, feature, layer");
  while (st.step()) {
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
    if (with_maps) {
      r.phi_pos = st.floats_col(10);
      r.phi_neg = st.floats_col(11);
      r.channels = st.floats_col(12);
      r.s = st.floats_col(13);
    }
    fn(std::move(r));
  }
}

std::vector<AttributionRecord> RunStore::attributions(bool with_maps) const {
  std::vector<AttributionRecord> out;
  for_each_attribution(with_maps, [&](AttributionRecord&& r) { out.push_back(std::move(r)); });
  return out;
}

}  // namespace tension::store
