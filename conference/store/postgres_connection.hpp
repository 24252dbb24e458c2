// RAII over libpq (https://www.postgresql.org/docs/15/libpq.html) for the PostgreSQL store, kept
// apart from it so that whatever else talks to the same database later (a placement table,
// LISTEN/NOTIFY) opens its connection the same way: one connection, statements with parameters
// only ($1, $2… through PQexecParams' protocol, never values spliced into SQL), text results,
// transactions that roll back unless committed.
//
// Bounded (DESIGN §7: a hung database must not hang the control loop): libpq's connect_timeout
// bounds opening; every session sets statement_timeout, so the server cancels a statement that
// runs or waits for a lock too long; and the client stops waiting statement_timeout + kClientGrace
// after sending (a server that is stopped, or a network that swallows packets, never answers at
// all) and then drops the connection. TCP keepalives and tcp_user_timeout bound a dead peer too.
//
// Reconnection: before a statement is sent, a connection found lost (the server restarted, an
// administrator ended the session, the last statement timed out) is replaced by a new one, once;
// if that fails the statement fails. A statement already sent is never re-sent (its effect is
// unknown), and nothing reconnects inside a transaction: the transaction is lost and fails.
//
// Nothing here throws. Threading: one connection per thread; the store keeps it on the control loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct pg_conn;
struct pg_result;

namespace chorus::conference::pg {

struct PgError {
  // The server's SQLSTATE (https://www.postgresql.org/docs/15/errcodes-appendix.html), e.g. 23505;
  // empty when the server said nothing: no connection, a timeout, a lost connection.
  std::string sqlstate;
  std::string message;
};

template <typename T>
using PgResult = std::expected<T, PgError>;

struct PgSettings {
  // A postgresql:// URI or a key=value string (libpq §34.1.1). Its own connect_timeout and
  // application_name win over the defaults here; client_encoding is always UTF8.
  std::string conninfo;
  std::chrono::seconds connect_timeout{5};  // libpq raises anything below 2 s to 2 s
  std::chrono::milliseconds statement_timeout{5000};
};

// How much longer than statement_timeout the client waits for an answer before it gives up on
// the connection: time for the server's own cancellation to arrive first.
inline constexpr std::chrono::milliseconds kClientGrace{2000};

// True for the two URI schemes libpq accepts (postgresql://, postgres://).
bool is_postgres_uri(std::string_view text);

// The conninfo with every password replaced by "***" (the URI's user:password@ and any password=
// parameter or keyword): the only form that may appear in a log line, an error or --print-config.
std::string redact_conninfo(std::string_view conninfo);

// Whether libpq can parse the conninfo (PQconninfoParse). The error never quotes it, since it may
// hold a password.
std::expected<void, std::string> check_conninfo(std::string_view conninfo);

// Parameters of one statement, 1-based like $1. Text is sent as TEXT, integers as BIGINT, NULL
// with the type of its column; a gap is a NULL TEXT. Text with a NUL byte cannot be sent (libpq's
// text parameters are C strings): the statement then fails instead of storing a truncated value.
class PgParams {
 public:
  PgParams& bind(int index, std::string_view text);
  PgParams& bind(int index, std::int64_t value);
  PgParams& bind_optional(int index, std::optional<std::string_view> text);  // NULL when nullopt
  PgParams& bind_null(int index);

  [[nodiscard]] std::size_t size() const { return values_.size(); }
  [[nodiscard]] const std::vector<std::optional<std::string>>& values() const { return values_; }
  [[nodiscard]] const std::vector<unsigned>& types() const { return types_; }
  [[nodiscard]] const std::string& error() const { return error_; }

 private:
  void set(int index, std::optional<std::string> value, unsigned type);

  std::vector<std::optional<std::string>> values_;
  std::vector<unsigned> types_;  // Oids: 25 text, 20 int8, 0 left to the server
  std::string error_;            // the first bind that could not be sent
};

// One row of a result; columns are 0-based.
class PgRow {
 public:
  PgRow(const pg_result* result, int row) : result_(result), row_(row) {}
  [[nodiscard]] std::string text(int column) const;  // NULL: ""
  [[nodiscard]] std::int64_t int64(int column) const;
  [[nodiscard]] bool is_null(int column) const;

 private:
  const pg_result* result_;
  int row_;
};

// A statement's result: its rows and how many rows it changed.
class PgRows {
 public:
  explicit PgRows(pg_result* result) : result_(result) {}
  [[nodiscard]] int size() const;
  [[nodiscard]] PgRow operator[](int row) const { return PgRow(result_.get(), row); }
  [[nodiscard]] std::int64_t affected() const;  // INSERT/UPDATE/DELETE; 0 for others
  [[nodiscard]] std::string command() const;    // the command tag: "COMMIT", "ROLLBACK", "INSERT 0 1"…

 private:
  struct Clear {
    void operator()(pg_result* result) const;
  };
  std::unique_ptr<pg_result, Clear> result_;
};

class PgConnection {
 public:
  // Connects and prepares the session (statement_timeout, synchronous_commit not off). The error
  // names the server by redact_conninfo and says what libpq said.
  static PgResult<std::unique_ptr<PgConnection>> open(PgSettings settings);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // One statement with parameters. The SQL is a constant; values only ever travel as parameters.
  PgResult<PgRows> exec(const char* sql, const PgParams& params = {});
  // One or more statements without parameters (a migration's DDL), through the simple protocol.
  PgResult<void> exec_script(const char* sql);

  [[nodiscard]] bool in_transaction() const { return in_transaction_; }
  // The server, without its password, for messages.
  [[nodiscard]] const std::string& description() const { return description_; }

 private:
  friend class PgTransaction;
  explicit PgConnection(PgSettings settings);

  PgResult<void> connect();
  PgResult<void> prepare_session();
  // Reconnects once when the connection is found lost and no transaction is open.
  PgResult<void> ensure_connected();
  PgResult<PgRows> send(const char* sql, const PgParams* params);
  PgResult<PgRows> await_result();
  // Gives up the connection (the next statement reconnects) and says why.
  std::unexpected<PgError> lose(std::string why);

  PgSettings settings_;
  std::string description_;
  pg_conn* conn_ = nullptr;
  bool in_transaction_ = false;
};

// BEGIN … COMMIT; rolls back when destroyed uncommitted. READ COMMITTED: a check that must still
// hold at the write locks what it read (SELECT … FOR UPDATE, or an advisory lock).
class PgTransaction {
 public:
  static PgResult<PgTransaction> begin(PgConnection& connection);
  ~PgTransaction();
  PgTransaction(PgTransaction&& other) noexcept : connection_(other.connection_) { other.connection_ = nullptr; }
  PgTransaction& operator=(PgTransaction&&) = delete;
  PgTransaction(const PgTransaction&) = delete;
  PgTransaction& operator=(const PgTransaction&) = delete;

  // Fails when the server rolled back instead (a statement inside had failed) or the connection
  // was lost before the answer: then the outcome is unknown to us and the caller reports kIo.
  PgResult<void> commit();

 private:
  explicit PgTransaction(PgConnection* connection) : connection_(connection) {}
  PgConnection* connection_;  // null once committed, rolled back or moved from
};

}  // namespace chorus::conference::pg
