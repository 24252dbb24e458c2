// What chorusd nodes sharing one PostgreSQL tell each other (issue 14): the payloads of the two
// LISTEN/NOTIFY channels (https://www.postgresql.org/docs/15/sql-notify.html).
//
//   chorus_events  {"node":"<node id>","event":{"id":…,"type":…,"timestamp":…,"data":{…}}}
//                  every event a node publishes, as event_to_json writes it (SSE and webhooks);
//                  an event whose payload would not fit goes as {"node":…,"event":{"id":…,"type":…,
//                  "timestamp":…},"truncated":true}, without its data.
//   chorus_store   {"kind":"room"|"meeting","id":"<id>","op":"upsert"|"delete"}, after a write of a
//                  room or meeting committed: the other nodes read that record again.
//
// PostgreSQL refuses a NOTIFY payload of 8000 bytes or more (default build), so nothing here makes
// one. Decoding takes what a peer sent and checks every field; anything else is nullopt.
// Threading: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "conference/events/event_log.hpp"

namespace chorus::conference::cluster {

inline constexpr std::string_view kEventsChannel = "chorus_events";
inline constexpr std::string_view kStoreChannel = "chorus_store";
// NOTIFY: "the payload must be shorter than 8000 bytes" (sql-notify.html, default configuration).
inline constexpr std::size_t kMaxNotifyPayload = 7999;
// A node id (the node_id setting) is at most this long, so an envelope always fits.
inline constexpr std::size_t kMaxNodeIdLength = 64;
// Event types are short names (event_type::k…); a longer one from a peer is refused.
inline constexpr std::size_t kMaxEventTypeLength = 64;

struct EncodedEvent {
  std::string payload;
  bool truncated = false;  // the event's data did not fit and was left out
};

// The chorus_events payload of `event`, published on `node`.
EncodedEvent encode_event(std::string_view node, const Event& event);

// An event another node published.
struct RemoteEvent {
  std::string node;
  std::uint64_t id = 0;  // its id on that node (ids are per node)
  std::string type;
  nlohmann::json data = nlohmann::json::object();  // {"truncated": true} for a truncated one
  bool truncated = false;
};
std::optional<RemoteEvent> decode_event(std::string_view payload);

enum class StoreKind { kRoom, kMeeting };
enum class StoreOp { kUpsert, kDelete };
struct StoreChange {
  StoreKind kind = StoreKind::kRoom;
  std::string id;
  StoreOp op = StoreOp::kUpsert;
  bool operator==(const StoreChange&) const = default;
};
// The chorus_store payload; an id too long for one (ids are short: the store's checks) is cut to
// nothing, which decode refuses — a peer then simply misses that change.
std::string encode_store_change(const StoreChange& change);
std::optional<StoreChange> decode_store_change(std::string_view payload);

}  // namespace chorus::conference::cluster
