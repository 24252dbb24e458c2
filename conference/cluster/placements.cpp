#include "conference/cluster/placements.hpp"

#include "common/log.hpp"

namespace chorus::conference::cluster {

Placements::Placements(std::unique_ptr<pg::PgConnection> db, std::string node_id, std::chrono::seconds lease,
                       std::chrono::milliseconds backoff)
    : db_(std::move(db)), table_(*db_, std::move(node_id), lease), backoff_(backoff) {}

bool Placements::database_usable() const {
  return Clock::now() >= usable_at_;
}

void Placements::note_failure(const pg::PgError& error) {
  // No SQLSTATE: no answer at all (unreachable, timed out, lost). A server that answered with an
  // error is reachable; the next call may try again at once.
  if (error.sqlstate.empty()) usable_at_ = Clock::now() + backoff_;
}

ClaimResult Placements::claim(std::string_view room_id) {
  if (!database_usable()) {
    ++counters_.unavailable;
    return {ClaimStatus::kUnavailable, {}, "the database did not answer a moment ago"};
  }
  auto outcome = table_.claim(room_id);
  if (!outcome) {
    note_failure(outcome.error());
    ++counters_.unavailable;
    return {ClaimStatus::kUnavailable, {}, outcome.error().message};
  }
  if (!outcome->ours) {
    ++counters_.redirected;
    return {ClaimStatus::kElsewhere, std::move(outcome->holder), {}};
  }
  if (held_.emplace(room_id).second) ++counters_.claimed;
  release_pending_.erase(std::string(room_id));
  return {ClaimStatus::kOurs, {}, {}};
}

void Placements::release(std::string_view room_id) {
  const auto held = held_.find(room_id);
  if (held == held_.end()) return;  // never claimed here (a refused call)
  held_.erase(held);
  release_pending_.emplace(room_id);
  tick([](std::string_view) { return false; });
}

void Placements::tick(const std::function<bool(std::string_view)>& live) {
  for (auto it = release_pending_.begin(); it != release_pending_.end() && database_usable();) {
    if (held_.contains(*it) || live(*it)) {  // claimed again meanwhile: not ours to delete
      it = release_pending_.erase(it);
      continue;
    }
    auto released = table_.release(*it);
    if (!released) {
      note_failure(released.error());
      CHORUS_LOG(kWarn, "cluster", "placement not released yet", {"room", *it}, {"error", released.error().message});
      return;
    }
    it = release_pending_.erase(it);
  }
}

pg::PgResult<std::int64_t> Placements::release_stale() {
  return table_.release_all();
}

void Placements::release_all() {
  for (const auto& room : held_) release_pending_.insert(room);
  held_.clear();
  if (release_pending_.empty()) return;
  usable_at_ = {};  // one last attempt, whatever happened before
  tick([](std::string_view) { return false; });
}

std::optional<NodeAddress> Placements::elsewhere(std::string_view room_id) {
  if (held_.contains(room_id) || !database_usable()) return std::nullopt;
  auto holder = table_.holder(room_id);
  if (!holder) {
    note_failure(holder.error());
    CHORUS_LOG(kWarn, "cluster", "placement look-up failed", {"room", std::string(room_id)},
               {"error", holder.error().message});
    return std::nullopt;
  }
  if (!*holder || (*holder)->node_id == table_.node_id()) return std::nullopt;
  return std::move(**holder);
}

void Placements::reclaim(const std::vector<std::string>& rooms, const std::function<bool(std::string_view)>& live) {
  for (const auto& room : rooms) {
    if (!live(room) || !held_.contains(room)) continue;  // ended meanwhile
    auto outcome = table_.claim(room);
    if (!outcome) {
      note_failure(outcome.error());
      CHORUS_LOG(kWarn, "cluster", "lease not renewed, claim failed", {"room", room},
                 {"error", outcome.error().message});
      continue;
    }
    if (outcome->ours) continue;
    ++counters_.lost;
    held_.erase(room);  // not ours any more: said once, never released by us
    CHORUS_LOG(kError, "cluster", "placement lost: another node runs this room now", {"room", room},
               {"node", outcome->holder.node_id},
               {"hint", "this node could not renew its lease in time (database unreachable?)"});
  }
}

}  // namespace chorus::conference::cluster
