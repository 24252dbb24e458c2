// A PostgreSQL session that LISTENs (https://www.postgresql.org/docs/15/sql-listen.html) and hands
// over the notifications that arrive (libpq §34.9, "Asynchronous Notification"): its socket is
// watched by the owner's poll(), then read() consumes what came and returns the notifications.
// pg::PgConnection (the store's) runs statements and keeps no notifications; this is the other
// half, kept as small: connect with the same bounds (connect_timeout, TCP keepalives so a silent
// peer is noticed), LISTEN, read. A lost session is not reconnected here: read() fails and the
// owner opens a new one (notifications sent meanwhile are lost; the owner re-reads its state).
// Threading: one thread (the cluster link's).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "conference/store/postgres_connection.hpp"

struct pg_conn;

namespace chorus::conference::cluster {

struct PgNotification {
  std::string channel;
  std::string payload;
  int sender_pid = 0;  // the notifying session's backend PID (PGnotify::be_pid)
};

class PgListener {
 public:
  // Connects and LISTENs on every channel. The error names the server without its password.
  static pg::PgResult<std::unique_ptr<PgListener>> open(const pg::PgSettings& settings,
                                                        const std::vector<std::string_view>& channels);
  ~PgListener();
  PgListener(const PgListener&) = delete;
  PgListener& operator=(const PgListener&) = delete;

  // The socket to poll for POLLIN.
  [[nodiscard]] int socket() const;
  // Reads what the server sent without blocking; at most `max` of the notifications that came
  // (libpq keeps the rest: a full answer means call again before polling). An error when the
  // session is lost (the owner then drops this listener).
  pg::PgResult<std::vector<PgNotification>> read(std::size_t max);

 private:
  explicit PgListener(pg_conn* conn, std::string description) : conn_(conn), description_(std::move(description)) {}
  pg_conn* conn_;
  std::string description_;
};

}  // namespace chorus::conference::cluster
