// chorus_placements (cluster_tables.hpp): which node a live conference runs on, held by a lease
// (issue 14, DESIGN §7). The statements, for whoever reads the table too (Kamailio, operators):
//
// claim — the room's conference starts here; one statement, atomic against every other node's:
//   INSERT INTO chorus_placements (room_id, node_id, lease_until)
//   VALUES ($1, $2, now() + make_interval(secs => $3))
//   ON CONFLICT (room_id) DO UPDATE SET node_id = excluded.node_id, lease_until = excluded.lease_until
//   WHERE chorus_placements.lease_until < now() OR chorus_placements.node_id = excluded.node_id
//   RETURNING node_id
// A row comes back when the room is ours (new, ours already, or another node's lease expired);
// none when another node holds an unexpired lease. Two nodes claiming at once: the unique index
// makes the second wait for the first's commit and then see its row, so exactly one wins.
//
// renew — every heartbeat, the rooms live here:
//   UPDATE chorus_placements SET lease_until = now() + make_interval(secs => $2)
//   WHERE node_id = $1 AND room_id IN (SELECT jsonb_array_elements_text($3::jsonb)) RETURNING room_id
// Never inserts: a row that is gone (released, or taken over after our lease ran out) stays gone,
// and the caller learns which live rooms were not renewed.
//
// release — the conference ended: DELETE … WHERE room_id = $1 AND node_id = $2 (never another's).
// release_all — at start, the rows a previous run of this node left: DELETE … WHERE node_id = $1.
// holder — who runs the room now: the row with an unexpired lease, joined with chorus_nodes for
// the node's addresses.
//
// Threading: the connection's owner; each call is one statement (autocommit).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conference/store/postgres_connection.hpp"

namespace chorus::conference::cluster {

// Where another node is reached (its chorus_nodes row; empty addresses when it has none).
struct NodeAddress {
  std::string node_id;
  std::string sip_address;  // host:port
  std::string http_url;     // http://host:port
  bool operator==(const NodeAddress&) const = default;
};

struct ClaimOutcome {
  bool ours = false;
  NodeAddress holder;  // !ours: the node whose unexpired lease holds the room
};

class PlacementTable {
 public:
  PlacementTable(pg::PgConnection& db, std::string node_id, std::chrono::seconds lease)
      : db_(db), node_id_(std::move(node_id)), lease_(lease) {}

  // Claims the room for this node (above). A room whose holder vanished between the claim and
  // the look-up is claimed again, a bounded number of times.
  pg::PgResult<ClaimOutcome> claim(std::string_view room_id);
  // The node whose unexpired lease holds the room (this node included); nullopt: nobody's.
  pg::PgResult<std::optional<NodeAddress>> holder(std::string_view room_id);
  // The rooms among `room_ids` whose lease this node renewed.
  pg::PgResult<std::vector<std::string>> renew(const std::vector<std::string>& room_ids);
  // true when this node's row was deleted.
  pg::PgResult<bool> release(std::string_view room_id);
  // How many rows of this node were deleted.
  pg::PgResult<std::int64_t> release_all();

  [[nodiscard]] const std::string& node_id() const { return node_id_; }
  [[nodiscard]] std::chrono::seconds lease() const { return lease_; }

 private:
  pg::PgConnection& db_;
  std::string node_id_;
  std::chrono::seconds lease_;
};

}  // namespace chorus::conference::cluster
