#pragma once
// A thin RAII layer over SQLite: open, execute, prepared statements with typed binds, transactions.
// Every failure becomes a tension::Error naming the database and SQLite's message.
#include <cstdint>
#include <string>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace tension::store {

class Statement;

class Database {
 public:
  // Opens a database; one created here is put in WAL mode, so that readers never block the writing pass.
  Database(const std::string& path, bool create);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void exec(const std::string& sql);
  Statement prepare(const std::string& sql);
  const std::string& path() const { return path_; }
  sqlite3* handle() { return db_; }
  [[noreturn]] void fail(const std::string& what) const;

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

class Statement {
 public:
  Statement(Database& db, const std::string& sql);
  ~Statement();
  Statement(Statement&& o) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, int64_t v);
  Statement& bind(int i, double v);
  Statement& bind(int i, const std::string& v);
  Statement& bind_blob(int i, const void* data, size_t bytes);  // empty when bytes == 0: NULL
  Statement& bind_null(int i);

  bool step();          // true while a row is available
  void run();           // steps to completion, then resets for reuse
  void reset();

  int64_t int_col(int i) const;
  double double_col(int i) const;
  std::string text_col(int i) const;
  std::vector<float> floats_col(int i) const;  // a float32 BLOB
  bool is_null(int i) const;

 private:
  Database* db_;
  sqlite3_stmt* st_ = nullptr;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back when destroyed without commit().
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  void commit();

 private:
  Database& db_;
  bool done_ = false;
};

}  // namespace tension::store
