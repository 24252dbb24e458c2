#include "conference/store/sqlite_schema.hpp"

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace chorus::conference::sqlite {
namespace {

// Times are INTEGER microseconds since the Unix epoch (UTC); string lists are JSON arrays.
// Enumerations are their REST spelling ("mcu", "required", "delivered").
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE rooms (
  id               TEXT PRIMARY KEY NOT NULL,
  dial_in_number   TEXT UNIQUE,  -- NULL: no number (UNIQUE lets any number of rooms go without)
  name             TEXT NOT NULL,
  mode             TEXT NOT NULL,
  max_participants INTEGER NOT NULL,
  encryption       TEXT NOT NULL,
  engine           TEXT NOT NULL,
  pin              TEXT NOT NULL,
  moderator_pin    TEXT NOT NULL,
  default_layout   TEXT NOT NULL,
  locked           INTEGER NOT NULL,
  created_at_us    INTEGER NOT NULL,
  version          INTEGER NOT NULL
);
CREATE TABLE meetings (
  id                     TEXT PRIMARY KEY NOT NULL,
  room_id                TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
  title                  TEXT NOT NULL,
  start_us               INTEGER NOT NULL,
  end_us                 INTEGER NOT NULL,
  timezone               TEXT NOT NULL,
  rrule                  TEXT NOT NULL,
  exdates_json           TEXT NOT NULL,
  join_window_before_min INTEGER NOT NULL,
  pin                    TEXT,
  organizer              TEXT NOT NULL,
  attendees_json         TEXT NOT NULL,
  sequence               INTEGER NOT NULL,
  cancelled              INTEGER NOT NULL,
  created_at_us          INTEGER NOT NULL,
  updated_at_us          INTEGER NOT NULL,
  version                INTEGER NOT NULL
);
CREATE INDEX meetings_by_room ON meetings(room_id, id);
CREATE TABLE api_keys (
  id            TEXT PRIMARY KEY NOT NULL,
  name          TEXT NOT NULL,
  scopes_json   TEXT NOT NULL,
  token_hash    TEXT NOT NULL UNIQUE,
  created_at_us INTEGER NOT NULL
);
CREATE TABLE webhooks (
  id                TEXT PRIMARY KEY NOT NULL,
  url               TEXT NOT NULL,
  event_types_json  TEXT NOT NULL,
  secret            TEXT NOT NULL,
  created_at_us     INTEGER NOT NULL
);
CREATE TABLE webhook_deliveries (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  webhook_id  TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  event_id    TEXT NOT NULL,
  attempt     INTEGER NOT NULL,
  status      TEXT NOT NULL,
  http_status INTEGER,
  error       TEXT NOT NULL,
  at_us       INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries(webhook_id, id);
)sql";

SqliteResult<int> current_version(Connection& connection) {
  auto query = connection.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!query) return std::unexpected(std::move(query.error()));
  auto row = query->step();
  if (!row) return std::unexpected(std::move(row.error()));
  return *row ? static_cast<int>(query->int64(0)) : 0;
}

SqliteResult<void> apply(Connection& connection, const Migration& migration) {
  auto transaction = Transaction::begin(connection);
  if (!transaction) return std::unexpected(std::move(transaction.error()));
  if (auto done = connection.exec(migration.sql); !done) return done;
  auto record = connection.query("INSERT INTO schema_migrations(version, applied_at) VALUES (?1, ?2)");
  if (!record) return std::unexpected(std::move(record.error()));
  const auto now =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch());
  record->bind(1, std::int64_t{migration.version}).bind(2, std::int64_t{now.count()});
  if (auto done = record->run(); !done) return done;
  return transaction->commit();
}

}  // namespace

std::span<const Migration> store_migrations() {
  // SQLite's own v1 followed by the portable migrations (store_schema.hpp).
  static const std::vector<Migration> history = schema_history(Migration{1, kSchemaV1});
  return history;
}

SqliteResult<int> migrate(Connection& connection, std::span<const Migration> migrations) {
  auto table = connection.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " version INTEGER PRIMARY KEY NOT NULL, applied_at INTEGER NOT NULL)");
  if (!table) return std::unexpected(std::move(table.error()));
  auto version = current_version(connection);
  if (!version) return version;
  const int known = migrations.empty() ? 0 : migrations.back().version;
  if (*version > known) {
    return std::unexpected(SqliteError{SQLITE_ERROR, newer_schema_message(*version, known)});
  }
  for (const Migration& migration : migrations) {
    if (migration.version <= *version) continue;
    if (auto applied = apply(connection, migration); !applied) {
      auto error = std::move(applied.error());
      error.message = "migration " + std::to_string(migration.version) + ": " + error.message;
      return std::unexpected(std::move(error));
    }
    *version = migration.version;
  }
  return *version;
}

}  // namespace chorus::conference::sqlite
