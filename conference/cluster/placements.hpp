// Placements: this node's side of chorus_placements on the control loop (issue 14). A call for a
// room that has no conference here claims the room before it is answered (call_gate.hpp), so the
// claim runs where the call is decided, on the control loop, through a connection of its own
// (like the store's: bounded by connect_timeout and statement_timeout). The leases of the rooms it
// holds are renewed by the cluster link's heartbeat, off the control loop (cluster_link.hpp).
//
// A database that does not answer must not stall the control loop call after call: after a
// failure that lost the connection, claims fail at once for `backoff` (the caller answers 503 with
// Retry-After) before the next attempt. A release that fails is tried again at each tick().
//
// Threading: control loop only.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "conference/cluster/placement_table.hpp"
#include "conference/store/postgres_connection.hpp"

namespace chorus::conference::cluster {

enum class ClaimStatus { kOurs, kElsewhere, kUnavailable };

struct ClaimResult {
  ClaimStatus status = ClaimStatus::kUnavailable;
  NodeAddress holder;  // kElsewhere
  std::string error;   // kUnavailable: why (for the log)
};

// What the call gate asks of the placement (an interface: the gate is tested without a database).
class CallPlacement {
 public:
  virtual ~CallPlacement() = default;
  // Claims the room for this node before its conference starts here.
  virtual ClaimResult claim(std::string_view room_id) = 0;
  // The room's conference ended here (or never started): its row goes.
  virtual void release(std::string_view room_id) = 0;
  // Draining: no conference starts here (POST /v1/system/drain).
  [[nodiscard]] virtual bool draining() const = 0;
};

struct PlacementCounters {
  std::uint64_t claimed = 0;      // rooms claimed (conferences starting here)
  std::uint64_t redirected = 0;   // another node held the room
  std::uint64_t unavailable = 0;  // the database did not answer (503)
  std::uint64_t lost = 0;         // a live room's lease was found taken by another node
};

class Placements final : public CallPlacement {
 public:
  using Clock = std::chrono::steady_clock;
  // `db` is this object's own connection; the tables exist (ensure_cluster_tables).
  Placements(std::unique_ptr<pg::PgConnection> db, std::string node_id, std::chrono::seconds lease,
             std::chrono::milliseconds backoff = std::chrono::seconds(5));

  ClaimResult claim(std::string_view room_id) override;
  void release(std::string_view room_id) override;
  [[nodiscard]] bool draining() const override { return draining_; }
  void set_draining(bool draining) { draining_ = draining; }

  // At start: the rows a previous run of this node left behind (it held nothing since).
  pg::PgResult<std::int64_t> release_stale();
  // At a clean stop: every room still held.
  void release_all();
  // REST (307): the node whose unexpired lease holds the room when it is not this one; nullopt
  // when nobody's, ours, or the database did not answer.
  std::optional<NodeAddress> elsewhere(std::string_view room_id);
  // The heartbeat did not renew these rooms' leases: each still `live` here is claimed again; one
  // another node took meanwhile is logged and counted (its conference here goes on until it ends).
  void reclaim(const std::vector<std::string>& rooms, const std::function<bool(std::string_view)>& live);
  // Releases that failed, tried again for rooms no longer `live`.
  void tick(const std::function<bool(std::string_view)>& live);

  [[nodiscard]] const std::set<std::string, std::less<>>& held() const { return held_; }
  [[nodiscard]] const PlacementCounters& counters() const { return counters_; }
  [[nodiscard]] const std::string& node_id() const { return table_.node_id(); }

 private:
  // false while backing off after a lost connection.
  bool database_usable() const;
  void note_failure(const pg::PgError& error);

  std::unique_ptr<pg::PgConnection> db_;
  PlacementTable table_;
  std::chrono::milliseconds backoff_;
  Clock::time_point usable_at_{};
  bool draining_ = false;
  std::set<std::string, std::less<>> held_;             // claimed, not yet released
  std::set<std::string, std::less<>> release_pending_;  // released here, the row not yet deleted
  PlacementCounters counters_;
};

}  // namespace chorus::conference::cluster
