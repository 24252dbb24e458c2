#include "conference/store/postgres_connection.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <utility>

namespace chorus::conference::pg {
namespace {

constexpr unsigned kTextOid = 25;  // pg_type.oid of text (src/include/catalog/pg_type.dat)
constexpr unsigned kInt8Oid = 20;  // bigint

using Clock = std::chrono::steady_clock;

// libpq's messages end in a newline and may span lines ("\tIs the server running…"): one line.
std::string one_line(const char* message) {
  std::string text = message != nullptr ? message : "";
  std::replace_if(text.begin(), text.end(), [](char c) { return c == '\n' || c == '\t'; }, ' ');
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

// Masks the value after `key=` in a key=value conninfo: quoted ('…' with \' escapes) or up to the
// next blank (libpq §34.1.1.1).
void mask_keyword(std::string& text, std::string_view key) {
  std::size_t from = 0;
  while ((from = text.find(key, from)) != std::string::npos) {
    const bool starts_word = from == 0 || text[from - 1] == ' ' || text[from - 1] == '\t';
    std::size_t at = from + key.size();
    while (at < text.size() && (text[at] == ' ' || text[at] == '\t')) ++at;
    if (!starts_word || at >= text.size() || text[at] != '=') {
      from += key.size();
      continue;
    }
    ++at;
    while (at < text.size() && (text[at] == ' ' || text[at] == '\t')) ++at;
    std::size_t end = at;
    if (end < text.size() && text[end] == '\'') {
      for (++end; end < text.size() && text[end] != '\''; ++end) {
        if (text[end] == '\\') ++end;
      }
      end = std::min(end + 1, text.size());
    } else {
      while (end < text.size() && text[end] != ' ' && text[end] != '\t') ++end;
    }
    text.replace(at, end - at, "***");
    from = at + 3;
  }
}

std::string redact_uri(std::string_view uri) {
  std::string out(uri);
  const std::size_t start = out.find("://") + 3;
  // libpq's URI parser (fe-connect.c, conninfo_uri_parse_options): user info is what precedes an
  // '@' met before any '/'; the password is its part after the first ':'.
  std::size_t end = start;
  while (end < out.size() && out[end] != '@' && out[end] != '/') ++end;
  if (end < out.size() && out[end] == '@') {
    const std::size_t colon = out.find(':', start);
    if (colon < end) out.replace(colon + 1, end - colon - 1, "***");
  }
  // …and password=… among the query parameters.
  const std::size_t query = out.find('?');
  if (query == std::string::npos) return out;
  std::size_t at = query + 1;
  while (at < out.size()) {
    std::size_t next = out.find('&', at);
    if (next == std::string::npos) next = out.size();
    if (out.compare(at, 9, "password=") == 0 && next > at + 9) {
      out.replace(at + 9, next - at - 9, "***");
      next = at + 12;
    }
    at = next + 1;
  }
  return out;
}

}  // namespace

bool is_postgres_uri(std::string_view text) {
  return text.starts_with("postgresql://") || text.starts_with("postgres://");
}

std::string redact_conninfo(std::string_view conninfo) {
  if (is_postgres_uri(conninfo)) return redact_uri(conninfo);
  std::string out(conninfo);
  mask_keyword(out, "password");
  return out;
}

std::expected<void, std::string> check_conninfo(std::string_view conninfo) {
  if (conninfo.find('\0') != std::string_view::npos) return std::unexpected("a connection string without NUL bytes");
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(std::string(conninfo).c_str(), &error);
  // The message may quote part of the string (and so the password): it is not passed on.
  PQfreemem(error);
  if (options == nullptr) return std::unexpected("a connection URI or string libpq can parse");
  PQconninfoFree(options);
  return {};
}

void PgParams::set(int index, std::optional<std::string> value, unsigned type) {
  if (index < 1) {
    if (error_.empty()) error_ = "parameter index " + std::to_string(index) + " out of range";
    return;
  }
  const auto slot = static_cast<std::size_t>(index - 1);
  if (values_.size() <= slot) {
    values_.resize(slot + 1);
    types_.resize(slot + 1, kTextOid);
  }
  values_[slot] = std::move(value);
  types_[slot] = type;
}

PgParams& PgParams::bind(int index, std::string_view text) {
  if (text.find('\0') != std::string_view::npos && error_.empty()) {
    error_ = "parameter $" + std::to_string(index) + " holds a NUL byte";
  }
  set(index, std::string(text), kTextOid);
  return *this;
}

PgParams& PgParams::bind(int index, std::int64_t value) {
  set(index, std::to_string(value), kInt8Oid);
  return *this;
}

PgParams& PgParams::bind_optional(int index, std::optional<std::string_view> text) {
  if (text) return bind(index, *text);
  set(index, std::nullopt, kTextOid);
  return *this;
}

PgParams& PgParams::bind_null(int index) {
  set(index, std::nullopt, 0);  // the server gives it its column's type
  return *this;
}

std::string PgRow::text(int column) const {
  if (PQgetisnull(result_, row_, column) != 0) return {};
  return {PQgetvalue(result_, row_, column), static_cast<std::size_t>(PQgetlength(result_, row_, column))};
}

std::int64_t PgRow::int64(int column) const {
  const char* value = PQgetvalue(result_, row_, column);
  const char* end = value + PQgetlength(result_, row_, column);
  std::int64_t number = 0;
  std::from_chars(value, end, number);  // integer columns in text format: always a decimal
  return number;
}

bool PgRow::is_null(int column) const {
  return PQgetisnull(result_, row_, column) != 0;
}

void PgRows::Clear::operator()(pg_result* result) const {
  PQclear(result);
}

int PgRows::size() const {
  return PQntuples(result_.get());
}

std::int64_t PgRows::affected() const {
  const char* count = PQcmdTuples(result_.get());
  std::int64_t number = 0;
  std::from_chars(count, count + std::char_traits<char>::length(count), number);
  return number;
}

std::string PgRows::command() const {
  const char* status = PQcmdStatus(result_.get());
  return status != nullptr ? status : "";
}

PgConnection::PgConnection(PgSettings settings)
    : settings_(std::move(settings)), description_(redact_conninfo(settings_.conninfo)) {}

PgConnection::~PgConnection() {
  PQfinish(conn_);  // null-safe
}

PgResult<std::unique_ptr<PgConnection>> PgConnection::open(PgSettings settings) {
  if (auto valid = check_conninfo(settings.conninfo); !valid) {
    return std::unexpected(PgError{"", redact_conninfo(settings.conninfo) + ": expected " + valid.error()});
  }
  std::unique_ptr<PgConnection> connection(new PgConnection(std::move(settings)));
  if (auto connected = connection->connect(); !connected) return std::unexpected(std::move(connected.error()));
  return connection;
}

PgResult<void> PgConnection::connect() {
  const std::string connect_timeout = std::to_string(settings_.connect_timeout.count());
  // tcp_user_timeout (ms): data unacknowledged this long means the peer is gone (Linux TCP_USER_TIMEOUT).
  const std::string tcp_user_timeout = std::to_string((settings_.statement_timeout + kClientGrace).count());
  // Keywords before dbname are defaults the conninfo may override; those after it are not
  // (PQconnectdbParams with expand_dbname: later keywords win).
  const char* const keywords[] = {
      "connect_timeout",  "application_name", "keepalives", "keepalives_idle", "keepalives_interval",
      "keepalives_count", "tcp_user_timeout", "dbname",     "client_encoding", nullptr};
  const char* const values[] = {connect_timeout.c_str(),    "chorusd", "1",    "10", "5", "3", tcp_user_timeout.c_str(),
                                settings_.conninfo.c_str(), "UTF8",    nullptr};
  conn_ = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn_ == nullptr) return std::unexpected(PgError{"", description_ + ": libpq is out of memory"});
  if (PQstatus(conn_) != CONNECTION_OK) {
    PgError error{"", description_ + ": cannot connect: " + one_line(PQerrorMessage(conn_))};
    PQfinish(conn_);
    conn_ = nullptr;
    return std::unexpected(std::move(error));
  }
  // Notices (CREATE TABLE IF NOT EXISTS "…skipping", a FATAL goodbye on an idle connection) would
  // go to stderr by default; what matters reaches us as results and errors.
  PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
  // Non-blocking, so that sending a statement is bounded by the same deadline as its answer.
  if (PQsetnonblocking(conn_, 1) != 0) return lose("cannot make the connection non-blocking");
  return prepare_session();
}

PgResult<void> PgConnection::prepare_session() {
  PgParams params;
  params.bind(1, std::to_string(settings_.statement_timeout.count()));
  auto set = send("SELECT set_config('statement_timeout', $1, false), current_setting('synchronous_commit')", &params);
  if (!set) return std::unexpected(std::move(set.error()));
  // Durability as SQLite's synchronous=FULL: COMMIT returns once the WAL is flushed. A server
  // configured with synchronous_commit=off would answer before that, so this session turns it on.
  if (set->size() == 1 && (*set)[0].text(1) == "off") {
    auto on = send("SELECT set_config('synchronous_commit', 'on', false)", nullptr);
    if (!on) return std::unexpected(std::move(on.error()));
  }
  return {};
}

std::unexpected<PgError> PgConnection::lose(std::string why) {
  PQfinish(conn_);
  conn_ = nullptr;
  return std::unexpected(PgError{"", description_ + ": " + why});
}

PgResult<void> PgConnection::ensure_connected() {
  if (conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK) {
    // An idle connection the server closed (a restart, an administrator, idle_session_timeout) has
    // its goodbye waiting on the socket: a FATAL message, then the end of the stream. Reading both
    // marks the connection bad. Bounded: an idle connection receives little (notices, a goodbye).
    for (int reads = 0; reads < 16 && PQstatus(conn_) == CONNECTION_OK; ++reads) {
      pollfd waiting{PQsocket(conn_), POLLIN, 0};
      if (::poll(&waiting, 1, 0) <= 0 || PQconsumeInput(conn_) == 0) break;
    }
    if (PQstatus(conn_) == CONNECTION_OK) return {};
  }
  if (in_transaction_) {
    return std::unexpected(PgError{"", description_ + ": the connection was lost inside a transaction"});
  }
  PQfinish(conn_);
  conn_ = nullptr;
  return connect();
}

PgResult<PgRows> PgConnection::exec(const char* sql, const PgParams& params) {
  if (!params.error().empty()) return std::unexpected(PgError{"22021", params.error()});
  if (auto up = ensure_connected(); !up) return std::unexpected(std::move(up.error()));
  return send(sql, &params);
}

PgResult<void> PgConnection::exec_script(const char* sql) {
  if (auto up = ensure_connected(); !up) return std::unexpected(std::move(up.error()));
  auto done = send(sql, nullptr);
  if (!done) return std::unexpected(std::move(done.error()));
  return {};
}

PgResult<PgRows> PgConnection::send(const char* sql, const PgParams* params) {
  if (conn_ == nullptr) return std::unexpected(PgError{"", description_ + ": not connected"});
  int sent = 0;
  if (params == nullptr) {
    sent = PQsendQuery(conn_, sql);
  } else {
    std::vector<const char*> values;
    values.reserve(params->size());
    for (const auto& value : params->values()) values.push_back(value ? value->c_str() : nullptr);
    const std::vector<Oid> types(params->types().begin(), params->types().end());
    sent = PQsendQueryParams(conn_, sql, static_cast<int>(params->size()), types.data(), values.data(), nullptr,
                             nullptr, /*resultFormat=*/0);
  }
  if (sent == 0) return lose("cannot send: " + one_line(PQerrorMessage(conn_)));
  return await_result();
}

PgResult<PgRows> PgConnection::await_result() {
  const auto deadline = Clock::now() + settings_.statement_timeout + kClientGrace;
  // Waits until the socket is ready for `events`; false at the deadline.
  const auto wait = [&](short events) {
    for (;;) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return false;
      pollfd ready{PQsocket(conn_), events, 0};
      const int rc = ::poll(&ready, 1, static_cast<int>(left.count()));
      if (rc > 0) return true;
      if (rc < 0 && errno != EINTR) return false;
    }
  };
  const std::string no_answer =
      "no answer within " + std::to_string((settings_.statement_timeout + kClientGrace).count()) + " ms";
  for (;;) {  // libpq §34.10: flush what is queued, reading meanwhile so the server never blocks on us
    const int flushed = PQflush(conn_);
    if (flushed == 0) break;
    if (flushed < 0) return lose("cannot send: " + one_line(PQerrorMessage(conn_)));
    if (!wait(POLLIN | POLLOUT)) return lose(no_answer);
    if (PQconsumeInput(conn_) == 0) return lose("lost: " + one_line(PQerrorMessage(conn_)));
  }
  std::optional<PgRows> last;
  std::optional<PgError> failed;
  for (;;) {
    while (PQisBusy(conn_) != 0) {
      if (!wait(POLLIN)) return lose(no_answer);
      if (PQconsumeInput(conn_) == 0) return lose("lost: " + one_line(PQerrorMessage(conn_)));
    }
    PGresult* result = PQgetResult(conn_);
    if (result == nullptr) break;  // the statement (or script) is done
    const ExecStatusType status = PQresultStatus(result);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
      last.emplace(result);
    } else {
      const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
      if (!failed) failed = PgError{state != nullptr ? state : "", one_line(PQresultErrorMessage(result))};
      PQclear(result);
    }
  }
  if (PQstatus(conn_) != CONNECTION_OK) {
    return lose("lost: " + (failed ? failed->message : one_line(PQerrorMessage(conn_))));
  }
  if (failed) return std::unexpected(std::move(*failed));
  if (!last) return std::unexpected(PgError{"", description_ + ": the server returned no result"});
  return std::move(*last);
}

PgResult<PgTransaction> PgTransaction::begin(PgConnection& connection) {
  auto begun = connection.exec("BEGIN");
  if (!begun) return std::unexpected(std::move(begun.error()));
  connection.in_transaction_ = true;
  return PgTransaction(&connection);
}

PgTransaction::~PgTransaction() {
  if (connection_ == nullptr) return;
  // On a lost connection this fails, and the server has rolled back already.
  if (connection_->conn_ != nullptr) (void)connection_->send("ROLLBACK", nullptr);
  connection_->in_transaction_ = false;
}

PgResult<void> PgTransaction::commit() {
  auto done = connection_->exec("COMMIT");
  if (!done) return std::unexpected(std::move(done.error()));
  connection_->in_transaction_ = false;
  connection_ = nullptr;
  // COMMIT of a transaction the server had aborted answers ROLLBACK, without an error.
  if (done->command() != "COMMIT") return std::unexpected(PgError{"40000", "the transaction was rolled back"});
  return {};
}

}  // namespace chorus::conference::pg
