#include "conference/cluster/pg_listener.hpp"

#include <libpq-fe.h>

#include <algorithm>

namespace chorus::conference::cluster {
namespace {

// libpq's messages end in a newline and may span lines: one line.
std::string one_line(const char* message) {
  std::string text = message != nullptr ? message : "";
  std::replace_if(text.begin(), text.end(), [](char c) { return c == '\n' || c == '\t'; }, ' ');
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

}  // namespace

pg::PgResult<std::unique_ptr<PgListener>> PgListener::open(const pg::PgSettings& settings,
                                                           const std::vector<std::string_view>& channels) {
  const std::string description = pg::redact_conninfo(settings.conninfo);
  if (auto valid = pg::check_conninfo(settings.conninfo); !valid)
    return std::unexpected(pg::PgError{"", description + ": expected " + valid.error()});
  const std::string connect_timeout = std::to_string(settings.connect_timeout.count());
  // As pg::PgConnection::connect: keywords before dbname are defaults the conninfo may override.
  // An idle LISTEN session learns of a dead server only through TCP keepalives.
  const char* const keywords[] = {"connect_timeout", "application_name",    "keepalives",
                                  "keepalives_idle", "keepalives_interval", "keepalives_count",
                                  "dbname",          "client_encoding",     nullptr};
  const char* const values[] = {connect_timeout.c_str(),   "chorusd-listen", "1",    "10", "5", "3",
                                settings.conninfo.c_str(), "UTF8",           nullptr};
  pg_conn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) return std::unexpected(pg::PgError{"", description + ": libpq is out of memory"});
  std::unique_ptr<PgListener> listener(new PgListener(conn, description));
  if (PQstatus(conn) != CONNECTION_OK)
    return std::unexpected(pg::PgError{"", description + ": cannot connect: " + one_line(PQerrorMessage(conn))});
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  for (const auto channel : channels) {
    // A channel is an identifier: quoted by libpq, never spliced in raw.
    char* quoted = PQescapeIdentifier(conn, channel.data(), channel.size());
    if (quoted == nullptr) return std::unexpected(pg::PgError{"", description + ": cannot quote a channel name"});
    const std::string sql = std::string("LISTEN ") + quoted;
    PQfreemem(quoted);
    PGresult* result = PQexec(conn, sql.c_str());
    const bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
    std::string error = ok ? std::string() : one_line(PQresultErrorMessage(result));
    PQclear(result);
    if (!ok) return std::unexpected(pg::PgError{"", description + ": LISTEN failed: " + error});
  }
  if (PQsetnonblocking(conn, 1) != 0)
    return std::unexpected(pg::PgError{"", description + ": cannot make the session non-blocking"});
  return listener;
}

PgListener::~PgListener() {
  PQfinish(conn_);
}

int PgListener::socket() const {
  return PQsocket(conn_);
}

pg::PgResult<std::vector<PgNotification>> PgListener::read(std::size_t max) {
  std::vector<PgNotification> arrived;
  if (PQconsumeInput(conn_) == 0 || PQstatus(conn_) != CONNECTION_OK)
    return std::unexpected(pg::PgError{"", description_ + ": lost: " + one_line(PQerrorMessage(conn_))});
  while (arrived.size() < max) {
    PGnotify* notify = PQnotifies(conn_);
    if (notify == nullptr) break;
    arrived.push_back({notify->relname != nullptr ? notify->relname : "", notify->extra != nullptr ? notify->extra : "",
                       notify->be_pid});
    PQfreemem(notify);
  }
  return arrived;
}

}  // namespace chorus::conference::cluster
