#include "conference/store/postgres_schema.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace chorus::conference::pg {
namespace {

// SQLite's v1 (sqlite_schema.cpp) in PostgreSQL's types, column for column and in the same order,
// so the portable migrations and the shared row mapping (store_rows.hpp) apply unchanged: times
// BIGINT microseconds since the epoch (UTC), flags INTEGER 0/1, lists JSON text, enumerations by
// their REST names. Ids compare and sort bytewise (COLLATE "C"), as SQLite's BINARY collation
// does, so cursor pages (WHERE id > $1 ORDER BY id) are the same whatever the database's locale.
// Deliveries take their ids from an identity sequence: they only grow, never reused, like SQLite's
// AUTOINCREMENT.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE rooms (
  id               TEXT COLLATE "C" PRIMARY KEY,
  dial_in_number   TEXT COLLATE "C" UNIQUE,  -- NULL: no number (UNIQUE lets any number of rooms go without)
  name             TEXT NOT NULL,
  mode             TEXT NOT NULL,
  max_participants BIGINT NOT NULL,
  encryption       TEXT NOT NULL,
  engine           TEXT NOT NULL,
  pin              TEXT NOT NULL,
  moderator_pin    TEXT NOT NULL,
  default_layout   TEXT NOT NULL,
  locked           INTEGER NOT NULL,
  created_at_us    BIGINT NOT NULL,
  version          BIGINT NOT NULL
);
CREATE TABLE meetings (
  id                     TEXT COLLATE "C" PRIMARY KEY,
  room_id                TEXT COLLATE "C" NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
  title                  TEXT NOT NULL,
  start_us               BIGINT NOT NULL,
  end_us                 BIGINT NOT NULL,
  timezone               TEXT NOT NULL,
  rrule                  TEXT NOT NULL,
  exdates_json           TEXT NOT NULL,
  join_window_before_min BIGINT NOT NULL,
  pin                    TEXT,
  organizer              TEXT NOT NULL,
  attendees_json         TEXT NOT NULL,
  sequence               BIGINT NOT NULL,
  cancelled              INTEGER NOT NULL,
  created_at_us          BIGINT NOT NULL,
  updated_at_us          BIGINT NOT NULL,
  version                BIGINT NOT NULL
);
CREATE INDEX meetings_by_room ON meetings(room_id, id);
CREATE TABLE api_keys (
  id            TEXT COLLATE "C" PRIMARY KEY,
  name          TEXT NOT NULL,
  scopes_json   TEXT NOT NULL,
  token_hash    TEXT NOT NULL UNIQUE,
  created_at_us BIGINT NOT NULL
);
CREATE TABLE webhooks (
  id                TEXT COLLATE "C" PRIMARY KEY,
  url               TEXT NOT NULL,
  event_types_json  TEXT NOT NULL,
  secret            TEXT NOT NULL,
  created_at_us     BIGINT NOT NULL
);
CREATE TABLE webhook_deliveries (
  id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  webhook_id  TEXT COLLATE "C" NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  event_id    TEXT NOT NULL,
  attempt     BIGINT NOT NULL,
  status      TEXT NOT NULL,
  http_status INTEGER,
  error       TEXT NOT NULL,
  at_us       BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries(webhook_id, id);
)sql";

// pg_advisory_xact_lock key of schema changes: "chorusmg" in ASCII, a number no other user of the
// database is likely to pick. Held until the migration's transaction ends.
constexpr std::int64_t kMigrationLock = 0x63686f7275736d67;

// One step in its own transaction: the lock, the version as it is now (another node may have
// moved it while we waited), the newer-build check, then the next migration if one is due.
// Returns the version reached and whether a migration ran.
PgResult<std::pair<int, bool>> step(PgConnection& connection, std::span<const Migration> migrations) {
  auto transaction = PgTransaction::begin(connection);
  if (!transaction) return std::unexpected(std::move(transaction.error()));
  PgParams lock;
  lock.bind(1, kMigrationLock);
  if (auto locked = connection.exec("SELECT pg_advisory_xact_lock($1)", lock); !locked) {
    return std::unexpected(std::move(locked.error()));
  }
  if (auto table = connection.exec(
          "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)");
      !table) {
    return std::unexpected(std::move(table.error()));
  }
  auto current = connection.exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!current) return std::unexpected(std::move(current.error()));
  const int version = static_cast<int>((*current)[0].int64(0));
  const int known = migrations.empty() ? 0 : migrations.back().version;
  if (version > known) return std::unexpected(PgError{"", newer_schema_message(version, known)});
  const Migration* next = nullptr;
  for (const Migration& migration : migrations) {
    if (migration.version > version) {
      next = &migration;
      break;
    }
  }
  if (next == nullptr) {
    if (auto committed = transaction->commit(); !committed) return std::unexpected(std::move(committed.error()));
    return std::pair{version, false};
  }
  const auto fail = [&](PgError error) {
    error.message = "migration " + std::to_string(next->version) + ": " + error.message;
    return std::unexpected(std::move(error));
  };
  if (auto done = connection.exec_script(next->sql); !done) return fail(std::move(done.error()));
  PgParams record;
  const auto now =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch());
  record.bind(1, std::int64_t{next->version}).bind(2, std::int64_t{now.count()});
  if (auto done = connection.exec("INSERT INTO schema_migrations(version, applied_at) VALUES ($1, $2)", record);
      !done) {
    return fail(std::move(done.error()));
  }
  if (auto committed = transaction->commit(); !committed) return fail(std::move(committed.error()));
  return std::pair{next->version, true};
}

}  // namespace

std::span<const Migration> store_migrations() {
  // PostgreSQL's own v1 followed by the portable migrations (store_schema.hpp).
  static const std::vector<Migration> history = schema_history(Migration{1, kSchemaV1});
  return history;
}

PgResult<int> migrate(PgConnection& connection, std::span<const Migration> migrations) {
  // Bounded by the list: each step either applies the next migration or finds none due.
  for (std::size_t i = 0; i <= migrations.size(); ++i) {
    auto stepped = step(connection, migrations);
    if (!stepped) return std::unexpected(std::move(stepped.error()));
    if (!stepped->second) return stepped->first;
  }
  return std::unexpected(PgError{"", "migrations did not settle"});
}

}  // namespace chorus::conference::pg
