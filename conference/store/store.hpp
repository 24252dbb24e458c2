// The store: rooms, meetings, API keys, webhooks and trunks that outlive the process. A narrow abstract
// interface with two implementations of the same semantics: SQLite (sqlite_store.hpp, embedded,
// the default) and PostgreSQL (postgres_store.hpp, shared by several nodes).
//
// Threading: a Store is used only on the control loop (DESIGN §2), never concurrently; the REST
// handlers reach it by running there. Every write is durable when the call returns, so a 2xx
// sent after it never announces a change a crash could lose.
//
// Errors: no method throws; each returns std::expected with a StoreError. Lists are ordered by
// id and paged by cursor: `after_id` (exclusive; empty or 0 starts at the beginning) and `limit`
// (the page size; a full page means there may be more, continue after its last id).
// Versions: the store owns `version`. Create stores 1 whatever the record says; update succeeds
// only when the stored version equals `expected_version` and stores that plus one.
// Times are kept to the microsecond. Ids order bytewise. Text written must be UTF-8 without NUL
// bytes (kIo otherwise), what both databases can hold.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conference/room.hpp"
#include "conference/store/records.hpp"
#include "conference/trunks/trunk.hpp"

namespace chorus::conference {

enum class StoreErrorKind {
  kNotFound,         // no such record, or a reference (meeting → room) to none
  kConflict,         // an id, dial-in number or token hash is taken
  kVersionMismatch,  // the stored version is not the expected one (REST 412)
  kIo,               // the database failed: disk, corruption, an unreadable row
};

struct StoreError {
  StoreErrorKind kind = StoreErrorKind::kIo;
  std::string message;
};

template <typename T>
using StoreResult = std::expected<T, StoreError>;

constexpr std::string_view to_string(StoreErrorKind kind) {
  switch (kind) {
    case StoreErrorKind::kNotFound:
      return "not found";
    case StoreErrorKind::kConflict:
      return "conflict";
    case StoreErrorKind::kVersionMismatch:
      return "version mismatch";
    case StoreErrorKind::kIo:
      return "i/o";
  }
  return "unknown";
}

// Group commit (issue 13): the writes of several callers in one transaction and one fsync. While a
// group is open every write the store makes joins it, and none is durable — nor visible to another
// connection — until commit() returns success; destroying the group uncommitted rolls all of them
// back. A write that fails inside the group rolls back only itself. So whoever opened the group must
// not answer for, or act on, any write in it before commit() succeeded.
class WriteGroup {
 public:
  virtual ~WriteGroup() = default;
  WriteGroup() = default;
  WriteGroup(const WriteGroup&) = delete;
  WriteGroup& operator=(const WriteGroup&) = delete;
  virtual StoreResult<void> commit() = 0;
};

class Store {
 public:
  virtual ~Store() = default;
  Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Rooms. A room's id and dial-in number are both dial strings (room.hpp), so create and update
  // answer kConflict when either equals another room's id or number.
  virtual StoreResult<Room> create_room(const Room& room) = 0;  // the room as stored (version 1)
  virtual StoreResult<Room> get_room(std::string_view id) = 0;
  virtual StoreResult<std::vector<Room>> list_rooms(std::string_view after_id, std::size_t limit) = 0;
  // Replaces every field but id and created_at; returns the new version.
  virtual StoreResult<std::uint64_t> update_room(const Room& room, std::uint64_t expected_version) = 0;
  // Also deletes the room's meetings.
  virtual StoreResult<void> delete_room(std::string_view id) = 0;

  // Meetings. kNotFound when room_id names no room.
  virtual StoreResult<MeetingRecord> create_meeting(const MeetingRecord& meeting) = 0;
  virtual StoreResult<MeetingRecord> get_meeting(std::string_view id) = 0;
  // Only the room's meetings when room_id is set.
  virtual StoreResult<std::vector<MeetingRecord>> list_meetings(std::string_view after_id, std::size_t limit,
                                                                std::optional<std::string_view> room_id) = 0;
  // Every meeting of the room (the join check reads them all), ordered by id.
  virtual StoreResult<std::vector<MeetingRecord>> list_meetings_for_room(std::string_view room_id) = 0;
  // Replaces every field but id and created_at; returns the new version.
  virtual StoreResult<std::uint64_t> update_meeting(const MeetingRecord& meeting, std::uint64_t expected_version) = 0;
  virtual StoreResult<void> delete_meeting(std::string_view id) = 0;

  // API keys. kConflict when the id or the token hash is taken.
  virtual StoreResult<void> create_api_key(const ApiKey& key) = 0;
  virtual StoreResult<ApiKey> get_api_key(std::string_view id) = 0;
  virtual StoreResult<ApiKey> find_api_key_by_token_hash(std::string_view token_hash) = 0;
  virtual StoreResult<std::vector<ApiKey>> list_api_keys(std::string_view after_id, std::size_t limit) = 0;
  virtual StoreResult<void> delete_api_key(std::string_view id) = 0;

  // Webhooks; deleting one deletes its deliveries.
  virtual StoreResult<void> create_webhook(const Webhook& webhook) = 0;
  virtual StoreResult<Webhook> get_webhook(std::string_view id) = 0;
  virtual StoreResult<std::vector<Webhook>> list_webhooks(std::string_view after_id, std::size_t limit) = 0;
  virtual StoreResult<void> delete_webhook(std::string_view id) = 0;

  // Deliveries. add ignores delivery.id and returns the one assigned (kNotFound: no such
  // webhook); update rewrites attempt, status, http_status, error and at of delivery.id.
  virtual StoreResult<std::int64_t> add_delivery(const WebhookDelivery& delivery) = 0;
  virtual StoreResult<void> update_delivery(const WebhookDelivery& delivery) = 0;
  virtual StoreResult<std::vector<WebhookDelivery>> list_deliveries(std::string_view webhook_id, std::int64_t after_id,
                                                                    std::size_t limit) = 0;
  // Retention (issue 12, "events are bounded"): deletes the deliveries whose last attempt is older
  // than `older_than`, then all but the newest `keep`; returns how many rows went.
  virtual StoreResult<std::uint64_t> prune_deliveries(std::size_t keep,
                                                      std::chrono::system_clock::time_point older_than) = 0;

  // SIP trunks (issue 15), passwords included: the REST layer keeps them out of its answers.
  // kConflict when the id or the name is taken.
  virtual StoreResult<Trunk> create_trunk(const Trunk& trunk) = 0;  // the trunk as stored (version 1)
  virtual StoreResult<Trunk> get_trunk(std::string_view id) = 0;
  virtual StoreResult<std::vector<Trunk>> list_trunks(std::string_view after_id, std::size_t limit) = 0;
  // Replaces every field but id and created_at; returns the new version.
  virtual StoreResult<std::uint64_t> update_trunk(const Trunk& trunk, std::uint64_t expected_version) = 0;
  virtual StoreResult<void> delete_trunk(std::string_view id) = 0;

  // Opens a write group (above); one at a time. nullptr when this store has none — PostgreSQL, whose
  // commits other nodes wait on, and the cluster's wrapper — or could not begin one (the database is
  // locked): the caller then lets each write commit alone.
  virtual std::unique_ptr<WriteGroup> begin_write_group() { return nullptr; }
};

}  // namespace chorus::conference
