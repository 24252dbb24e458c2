#include "conference/cluster/cluster_tables.hpp"

#include <algorithm>
#include <limits>

namespace chorus::conference::cluster {
namespace {

// pg_advisory_xact_lock key of the cluster tables' creation: "chorusnd" in ASCII, apart from the
// store's own keys (postgres_schema.cpp "chorusmg", postgres_store.cpp "chorusrm").
constexpr std::int64_t kTablesLock = 0x63686f7275736e64;

constexpr const char* kCreateTables = R"sql(
CREATE TABLE IF NOT EXISTS chorus_nodes (
  node_id      text PRIMARY KEY,
  sip_address  text NOT NULL,
  http_url     text NOT NULL,
  draining     boolean NOT NULL DEFAULT false,
  calls        integer NOT NULL DEFAULT 0,
  heartbeat_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS chorus_placements (
  room_id     text PRIMARY KEY,
  node_id     text NOT NULL,
  lease_until timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS chorus_placements_by_node ON chorus_placements (node_id);
)sql";

constexpr const char* kHeartbeat = R"sql(
INSERT INTO chorus_nodes (node_id, sip_address, http_url, draining, calls, heartbeat_at)
VALUES ($1, $2, $3, $4::boolean, $5, now())
ON CONFLICT (node_id) DO UPDATE SET sip_address = excluded.sip_address, http_url = excluded.http_url,
  draining = excluded.draining, calls = excluded.calls, heartbeat_at = excluded.heartbeat_at
)sql";

}  // namespace

pg::PgResult<void> ensure_cluster_tables(pg::PgConnection& db) {
  auto transaction = pg::PgTransaction::begin(db);
  if (!transaction) return std::unexpected(std::move(transaction.error()));
  pg::PgParams lock;
  lock.bind(1, kTablesLock);
  if (auto locked = db.exec("SELECT pg_advisory_xact_lock($1)", lock); !locked)
    return std::unexpected(std::move(locked.error()));
  if (auto created = db.exec_script(kCreateTables); !created) return created;
  return transaction->commit();
}

pg::PgResult<void> write_heartbeat(pg::PgConnection& db, const NodeRow& row) {
  pg::PgParams params;
  params.bind(1, row.node_id)
      .bind(2, row.sip_address)
      .bind(3, row.http_url)
      .bind(4, row.draining ? "true" : "false")
      .bind(5, std::clamp<std::int64_t>(row.calls, 0, std::numeric_limits<std::int32_t>::max()));
  auto written = db.exec(kHeartbeat, params);
  if (!written) return std::unexpected(std::move(written.error()));
  return {};
}

}  // namespace chorus::conference::cluster
