#include "tension/store/sqlite_db.h"

#include <sqlite3.h>

#include <cstring>

#include "tension/core/error.h"

namespace tension::store {

Database::Database(const std::string& path, bool create) : path_(path) {
  int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error("cannot open database " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db_, 10000);
  // A file that is not a database fails here; no destructor runs after a throwing constructor, so close it here.
  try {
    // WAL is a property of the file, set once by its creator: opening an existing file changes nothing in it.
    if (create) exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
  } catch (const Error&) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

Database::~Database() { sqlite3_close(db_); }

namespace {

// What to do about the errors a user can act on. A failed write leaves the database as its last commit; a damaged
// file is left as it is.
std::string error_hint(sqlite3* db) {
  switch (sqlite3_errcode(db)) {
    case SQLITE_FULL:
    case SQLITE_IOERR:
      return " (is the disk full, or a file size limit reached? free space and run the same command again: it "
             "resumes from the last stored batch)";
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return " (the file is damaged; tension leaves it as it is: `sqlite3 FILE 'PRAGMA integrity_check'` says "
             "where, and a new run into another folder makes it again)";
    default:
      return "";
  }
}

}  // namespace

void Database::fail(const std::string& what) const {
  throw Error("database " + path_ + ": " + what + ": " + sqlite3_errmsg(db_) + error_hint(db_));
}

void Database::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "?";
    sqlite3_free(err);
    throw Error("database " + path_ + ": " + msg + " (in: " + sql.substr(0, 80) + ")" + error_hint(db_));
  }
}

Statement Database::prepare(const std::string& sql) { return Statement(*this, sql); }

Statement::Statement(Database& db, const std::string& sql) : db_(&db) {
  if (sqlite3_prepare_v2(db.handle(), sql.c_str(), -1, &st_, nullptr) != SQLITE_OK) {
    db.fail("cannot prepare '" + sql.substr(0, 80) + "'");
  }
}

Statement::~Statement() { sqlite3_finalize(st_); }

Statement::Statement(Statement&& o) noexcept : db_(o.db_), st_(o.st_) { o.st_ = nullptr; }

Statement& Statement::bind(int i, int64_t v) {
  if (sqlite3_bind_int64(st_, i, v) != SQLITE_OK) db_->fail("bind");
  return *this;
}

Statement& Statement::bind(int i, double v) {
  if (sqlite3_bind_double(st_, i, v) != SQLITE_OK) db_->fail("bind");
  return *this;
}

Statement& Statement::bind(int i, const std::string& v) {
  if (sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT) != SQLITE_OK) {
    db_->fail("bind");
  }
  return *this;
}

Statement& Statement::bind_blob(int i, const void* data, size_t bytes) {
  if (bytes == 0) return bind_null(i);
  if (sqlite3_bind_blob64(st_, i, data, bytes, SQLITE_TRANSIENT) != SQLITE_OK) db_->fail("bind");
  return *this;
}

Statement& Statement::bind_null(int i) {
  if (sqlite3_bind_null(st_, i) != SQLITE_OK) db_->fail("bind");
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(st_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_->fail("step");
}

void Statement::run() {
  while (step()) {
  }
  reset();
}

void Statement::reset() {
  sqlite3_reset(st_);
  sqlite3_clear_bindings(st_);
}

int64_t Statement::int_col(int i) const { return sqlite3_column_int64(st_, i); }
double Statement::double_col(int i) const { return sqlite3_column_double(st_, i); }
bool Statement::is_null(int i) const { return sqlite3_column_type(st_, i) == SQLITE_NULL; }

std::string Statement::text_col(int i) const {
  auto p = sqlite3_column_text(st_, i);
  return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(st_, i)) : std::string();
}

std::vector<float> Statement::floats_col(int i) const {
  const void* p = sqlite3_column_blob(st_, i);
  size_t n = static_cast<size_t>(sqlite3_column_bytes(st_, i)) / sizeof(float);
  std::vector<float> v(n);
  if (n) std::memcpy(v.data(), p, n * sizeof(float));
  return v;
}

Transaction::Transaction(Database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (!done_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace tension::store
