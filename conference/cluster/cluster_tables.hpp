// The two tables chorusd nodes sharing one PostgreSQL keep about themselves (issue 14, DESIGN §7:
// "a live conference lives on exactly one node at a time (a lease in the store)"). Their names and
// columns are a contract: Kamailio's routing and the operators' queries read them.
//
//   chorus_nodes(node_id text primary key, sip_address text not null, http_url text not null,
//                draining boolean not null default false, calls integer not null default 0,
//                heartbeat_at timestamptz not null)
//     one row per node, upserted at start and every heartbeat (2 s): where a proxy reaches its SIP
//     listener (host:port), where other nodes reach its REST API, whether it drains, its calls.
//   chorus_placements(room_id text primary key, node_id text not null, lease_until timestamptz not null)
//     one row per live conference: the node it runs on, until when (placement_table.hpp).
//
// Created at start with CREATE TABLE IF NOT EXISTS under an advisory lock, so nodes starting
// together against one database create them once, and a later node finds them. All times are the
// database server's clock (now()), never a node's: nodes need not agree on the time.
// Threading: whoever owns the connection.
#pragma once

#include <cstdint>
#include <string>

#include "conference/store/postgres_connection.hpp"

namespace chorus::conference::cluster {

pg::PgResult<void> ensure_cluster_tables(pg::PgConnection& db);

// This node's row in chorus_nodes.
struct NodeRow {
  std::string node_id;
  std::string sip_address;  // host:port
  std::string http_url;     // http://host:port
  bool draining = false;
  std::int64_t calls = 0;
};

// INSERT … ON CONFLICT (node_id) DO UPDATE: every column, heartbeat_at = now().
pg::PgResult<void> write_heartbeat(pg::PgConnection& db, const NodeRow& row);

}  // namespace chorus::conference::cluster
