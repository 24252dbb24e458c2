#include "conference/store/sqlite_connection.hpp"

#include <sqlite3.h>

#include <limits>
#include <string>
#include <utility>

namespace chorus::conference::sqlite {

Query::~Query() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Query::Query(Query&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)), bind_rc_(other.bind_rc_) {}

void Query::note_bind(int rc) {
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

Query& Query::bind(int index, std::string_view text) {
  if (text.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    note_bind(SQLITE_TOOBIG);
    return *this;
  }
  // An empty view may have a null data(); SQLite would store NULL for it, so give it "".
  const char* data = text.empty() ? "" : text.data();
  note_bind(sqlite3_bind_text(stmt_, index, data, static_cast<int>(text.size()), SQLITE_TRANSIENT));
  return *this;
}

Query& Query::bind(int index, std::int64_t value) {
  note_bind(sqlite3_bind_int64(stmt_, index, value));
  return *this;
}

Query& Query::bind_optional(int index, std::optional<std::string_view> text) {
  return text ? bind(index, *text) : bind_null(index);
}

Query& Query::bind_null(int index) {
  note_bind(sqlite3_bind_null(stmt_, index));
  return *this;
}

SqliteResult<bool> Query::step() {
  if (bind_rc_ != SQLITE_OK) {
    return std::unexpected(SqliteError{bind_rc_, std::string("bind: ") + sqlite3_errstr(bind_rc_)});
  }
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return std::unexpected(SqliteError{sqlite3_extended_errcode(db_), sqlite3_errmsg(db_)});
}

SqliteResult<void> Query::run() {
  for (;;) {
    auto row = step();
    if (!row) return std::unexpected(std::move(row.error()));
    if (!*row) return {};
  }
}

std::string Query::text(int column) const {
  const auto* data = sqlite3_column_text(stmt_, column);
  const int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr) return {};
  return {reinterpret_cast<const char*>(data), static_cast<std::size_t>(size)};
}

std::int64_t Query::int64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

bool Query::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

void Connection::StatementDeleter::operator()(sqlite3_stmt* stmt) const {
  sqlite3_finalize(stmt);
}

SqliteResult<std::unique_ptr<Connection>> Connection::open(const std::string& path) {
  sqlite3* db = nullptr;
  // NOMUTEX: the connection is confined to one thread (header), SQLite need not lock it.
  const int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    SqliteError error{rc, db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)};
    sqlite3_close_v2(db);  // a handle is returned even on failure; closing null is a no-op
    return std::unexpected(std::move(error));
  }
  sqlite3_extended_result_codes(db, 1);
  return std::unique_ptr<Connection>(new Connection(db));
}

Connection::~Connection() {
  statements_.clear();  // finalize before close, or close_v2 defers it
  sqlite3_close_v2(db_);
}

SqliteResult<void> Connection::exec(const char* sql) {
  char* message = nullptr;
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return {};
  SqliteError error{sqlite3_extended_errcode(db_), message != nullptr ? message : sqlite3_errstr(rc)};
  sqlite3_free(message);
  return std::unexpected(std::move(error));
}

SqliteResult<Query> Connection::query(std::string_view sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    sqlite3_stmt* stmt = nullptr;
    const int rc =
        sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return std::unexpected(error(rc));
    }
    it = statements_.emplace(sql, std::unique_ptr<sqlite3_stmt, StatementDeleter>(stmt)).first;
  }
  return Query(db_, it->second.get());
}

std::int64_t Connection::changes() const {
  return sqlite3_changes64(db_);
}

std::int64_t Connection::last_insert_rowid() const {
  return sqlite3_last_insert_rowid(db_);
}

SqliteError Connection::error(int rc) const {
  const int code = sqlite3_extended_errcode(db_);
  return SqliteError{code != SQLITE_OK ? code : rc, sqlite3_errmsg(db_)};
}

namespace {

std::string savepoint_statement(std::string_view verb, int depth) {
  return std::string(verb) + " chorus_savepoint_" + std::to_string(depth);
}

}  // namespace

SqliteResult<Transaction> Transaction::begin(Connection& connection) {
  const int depth = connection.transaction_depth_ + 1;
  auto begun = depth == 1 ? connection.exec("BEGIN IMMEDIATE")
                          : connection.exec(savepoint_statement("SAVEPOINT", depth).c_str());
  if (!begun) return std::unexpected(std::move(begun.error()));
  connection.transaction_depth_ = depth;
  return Transaction(&connection, depth);
}

Transaction::~Transaction() {
  if (connection_ == nullptr) return;
  if (nested()) {
    // ROLLBACK TO keeps the savepoint open; RELEASE then ends it, with nothing left to keep.
    (void)connection_->exec(savepoint_statement("ROLLBACK TO", depth_).c_str());
    (void)connection_->exec(savepoint_statement("RELEASE", depth_).c_str());
  } else {
    (void)connection_->exec("ROLLBACK");
  }
  connection_->transaction_depth_ = depth_ - 1;
}

SqliteResult<void> Transaction::commit() {
  auto done =
      nested() ? connection_->exec(savepoint_statement("RELEASE", depth_).c_str()) : connection_->exec("COMMIT");
  // A failed COMMIT leaves the transaction open (e.g. SQLITE_BUSY); the destructor rolls it back.
  if (done) {
    connection_->transaction_depth_ = depth_ - 1;
    connection_ = nullptr;
  }
  return done;
}

}  // namespace chorus::conference::sqlite
