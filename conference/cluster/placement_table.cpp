#include "conference/cluster/placement_table.hpp"

#include <nlohmann/json.hpp>

namespace chorus::conference::cluster {
namespace {

constexpr const char* kClaim = R"sql(
INSERT INTO chorus_placements (room_id, node_id, lease_until)
VALUES ($1, $2, now() + make_interval(secs => $3))
ON CONFLICT (room_id) DO UPDATE SET node_id = excluded.node_id, lease_until = excluded.lease_until
WHERE chorus_placements.lease_until < now() OR chorus_placements.node_id = excluded.node_id
RETURNING node_id
)sql";

constexpr const char* kHolder = R"sql(
SELECT p.node_id, coalesce(n.sip_address, ''), coalesce(n.http_url, '')
FROM chorus_placements p LEFT JOIN chorus_nodes n ON n.node_id = p.node_id
WHERE p.room_id = $1 AND p.lease_until >= now()
)sql";

constexpr const char* kRenew = R"sql(
UPDATE chorus_placements SET lease_until = now() + make_interval(secs => $2)
WHERE node_id = $1 AND room_id IN (SELECT jsonb_array_elements_text($3::jsonb))
RETURNING room_id
)sql";

constexpr const char* kRelease = "DELETE FROM chorus_placements WHERE room_id = $1 AND node_id = $2";
constexpr const char* kReleaseAll = "DELETE FROM chorus_placements WHERE node_id = $1";

// Claim, look-up, claim again…: a holder that keeps releasing between our two statements is
// improbable; three rounds and the caller gets an error instead of a loop.
constexpr int kClaimRounds = 3;

}  // namespace

pg::PgResult<ClaimOutcome> PlacementTable::claim(std::string_view room_id) {
  for (int round = 0; round < kClaimRounds; ++round) {
    pg::PgParams params;
    params.bind(1, room_id).bind(2, node_id_).bind(3, static_cast<std::int64_t>(lease_.count()));
    auto claimed = db_.exec(kClaim, params);
    if (!claimed) return std::unexpected(std::move(claimed.error()));
    if (claimed->size() == 1) return ClaimOutcome{.ours = true, .holder = {}};
    // Another node's unexpired lease. A new statement sees what that node committed (READ
    // COMMITTED), so its row is there unless it was released meanwhile.
    auto held = holder(room_id);
    if (!held) return std::unexpected(std::move(held.error()));
    if (*held && (*held)->node_id != node_id_) return ClaimOutcome{.ours = false, .holder = std::move(**held)};
  }
  return std::unexpected(pg::PgError{"", "the placement of room " + std::string(room_id) + " kept changing"});
}

pg::PgResult<std::optional<NodeAddress>> PlacementTable::holder(std::string_view room_id) {
  pg::PgParams params;
  params.bind(1, room_id);
  auto rows = db_.exec(kHolder, params);
  if (!rows) return std::unexpected(std::move(rows.error()));
  if (rows->size() == 0) return std::optional<NodeAddress>();
  const auto row = (*rows)[0];
  return std::optional<NodeAddress>(NodeAddress{row.text(0), row.text(1), row.text(2)});
}

pg::PgResult<std::vector<std::string>> PlacementTable::renew(const std::vector<std::string>& room_ids) {
  std::vector<std::string> renewed;
  if (room_ids.empty()) return renewed;
  pg::PgParams params;
  params.bind(1, node_id_)
      .bind(2, static_cast<std::int64_t>(lease_.count()))
      .bind(3, nlohmann::json(room_ids).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  auto rows = db_.exec(kRenew, params);
  if (!rows) return std::unexpected(std::move(rows.error()));
  renewed.reserve(static_cast<std::size_t>(rows->size()));
  for (int i = 0; i < rows->size(); ++i) renewed.push_back((*rows)[i].text(0));
  return renewed;
}

pg::PgResult<bool> PlacementTable::release(std::string_view room_id) {
  pg::PgParams params;
  params.bind(1, room_id).bind(2, node_id_);
  auto deleted = db_.exec(kRelease, params);
  if (!deleted) return std::unexpected(std::move(deleted.error()));
  return deleted->affected() > 0;
}

pg::PgResult<std::int64_t> PlacementTable::release_all() {
  pg::PgParams params;
  params.bind(1, node_id_);
  auto deleted = db_.exec(kReleaseAll, params);
  if (!deleted) return std::unexpected(std::move(deleted.error()));
  return deleted->affected();
}

}  // namespace chorus::conference::cluster
