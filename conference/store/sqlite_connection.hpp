// RAII over the SQLite C API for the store: one connection, its cached prepared statements, and
// transactions that roll back unless committed. Nothing here throws; errors carry SQLite's
// extended result code (https://sqlite.org/rescode.html) and message.
// Threading: one connection per thread that uses it; the store keeps it on the control loop.
#pragma once

#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace chorus::conference::sqlite {

struct SqliteError {
  int code = 0;  // extended result code, e.g. SQLITE_CONSTRAINT_UNIQUE
  std::string message;
};

template <typename T>
using SqliteResult = std::expected<T, SqliteError>;

// A cached prepared statement leased for one use: bind, step, read columns. On destruction the
// statement is reset and its bindings cleared, ready for the next lease.
class Query {
 public:
  Query(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Query();
  Query(Query&& other) noexcept;
  Query& operator=(Query&&) = delete;
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  // Parameters are 1-based (?1, ?2…). Values are copied. A failed bind is reported by step().
  Query& bind(int index, std::string_view text);
  Query& bind(int index, std::int64_t value);
  Query& bind_optional(int index, std::optional<std::string_view> text);  // NULL when nullopt
  Query& bind_null(int index);

  // true: a row is ready to read; false: the statement is done.
  SqliteResult<bool> step();
  // Steps to the end (a write, or a read whose rows do not matter).
  SqliteResult<void> run();

  [[nodiscard]] std::string text(int column) const;
  [[nodiscard]] std::int64_t int64(int column) const;
  [[nodiscard]] bool is_null(int column) const;

 private:
  void note_bind(int rc);

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int bind_rc_ = 0;  // SQLITE_OK, or the first failed bind's code
};

class Connection {
 public:
  // Opens (creating) the file read-write. SQLite opens lazily, so a file that is no database
  // shows up at the first statement, which the caller runs next.
  static SqliteResult<std::unique_ptr<Connection>> open(const std::string& path);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements whose results do not matter (DDL, PRAGMA assignments).
  SqliteResult<void> exec(const char* sql);
  // The prepared statement for this SQL, compiled on first use and kept. The SQL text must
  // outlive the connection (the store's are string literals).
  SqliteResult<Query> query(std::string_view sql);
  [[nodiscard]] std::int64_t changes() const;
  [[nodiscard]] std::int64_t last_insert_rowid() const;
  [[nodiscard]] SqliteError error(int rc) const;
  // How many Transactions are open on this connection: 0, 1 (BEGIN … COMMIT), or more (savepoints).
  [[nodiscard]] int transaction_depth() const { return transaction_depth_; }

 private:
  friend class Transaction;
  explicit Connection(sqlite3* db) : db_(db) {}
  struct StatementDeleter {
    void operator()(sqlite3_stmt* stmt) const;
  };

  sqlite3* db_;
  std::unordered_map<std::string_view, std::unique_ptr<sqlite3_stmt, StatementDeleter>> statements_;
  int transaction_depth_ = 0;
};

// BEGIN IMMEDIATE … COMMIT: the write lock is taken up front so that a check made inside
// (version, uniqueness) still holds at the write. Rolls back when destroyed uncommitted.
// Nested inside another open Transaction (the store's write group, issue 13) it is a SAVEPOINT:
// commit() releases it into the outer transaction, which alone makes it durable, and destroying it
// uncommitted rolls back only its own changes (https://sqlite.org/lang_savepoint.html). Nested
// Transactions end before the one they are in (they are scoped inside one store call).
class Transaction {
 public:
  static SqliteResult<Transaction> begin(Connection& connection);
  ~Transaction();
  Transaction(Transaction&& other) noexcept : connection_(other.connection_), depth_(other.depth_) {
    other.connection_ = nullptr;
  }
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  SqliteResult<void> commit();

 private:
  Transaction(Connection* connection, int depth) : connection_(connection), depth_(depth) {}
  [[nodiscard]] bool nested() const { return depth_ > 1; }
  Connection* connection_;  // null once committed, rolled back or moved from
  int depth_;               // 1: the outermost (BEGIN); more: a savepoint inside it
};

}  // namespace chorus::conference::sqlite
