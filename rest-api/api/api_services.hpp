// ApiServices: what the /v1 route handlers reach, all owned by the server wiring and used on the
// control loop only (the Router runs handlers there, DESIGN §2). Handlers write the store first
// (durable before the 2xx), then bring the in-memory views the SIP path reads (RoomDirectory,
// MeetingCalendar) up to date, then publish an event; a handler of a `write_group` route does those
// two through commit_effects, after its group's commit.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <expected>
#include <functional>
#include <optional>
#include <string>

#include "common/timer_queue.hpp"
#include "conference/conference_service.hpp"
#include "conference/egress_policy.hpp"
#include "conference/events/event_log.hpp"
#include "conference/room.hpp"
#include "conference/schedule/meeting_calendar.hpp"
#include "conference/store/store.hpp"
#include "conference/trunks/trunk_directory.hpp"
#include "rest-api/event_stream.hpp"
#include "rest-api/metrics.hpp"
#include "rest-api/write_group.hpp"

namespace chorus::rest {

class WebhookDispatcher;
class ApiKeyCache;
class RoomListSnapshot;
}  // namespace chorus::rest

namespace chorus::conference {
class RecordingService;
}  // namespace chorus::conference

namespace chorus::rest {

struct ApiServices {
  conference::Store& store;
  conference::RoomDirectory& rooms;
  conference::MeetingCalendar& calendar;
  conference::ConferenceService& conference;
  conference::EventLog& events;
  MetricsRegistry& metrics;
  // How callers reach a room: "sip:<room id>@<sip_host>"; sip_host is what Via/Contact carry.
  std::string sip_host;
  // Readiness (listeners bound, store open, not draining) and the drain itself.
  std::function<bool()> ready;
  std::function<void()> drain;
  // Ends a call with BYE (sip::UserAgent::hang_up); false when the call is already gone.
  std::function<bool(sip::CallHandle, std::string_view reason)> hang_up;
  // Calls someone into a room (ConferenceService::dial_out); empty: dial-out answers 503.
  std::function<std::expected<conference::DialOutStarted, conference::DialOutError>(const conference::DialOutRequest&)>
      dial_out;
  std::function<std::chrono::system_clock::time_point()> now = [] { return std::chrono::system_clock::now(); };
  // The page's address, "http://<public address>:<http port>": a meeting's join_url (a browser
  // joins its room at <web_base_url>/?room=<room id>). Empty: meetings carry join_url null.
  std::string web_base_url;
  // The shortest PIN a room may be given (POST/PATCH; --min-pin-digits, kMinRoomPinDigits..kMaxRoomPinDigits).
  // PINs already stored are kept whatever their length.
  std::size_t min_pin_digits = 6;
  // Which addresses a webhook may be registered at (issue 12; webhook_allow_private,
  // webhook_allow_ranges): private, loopback and link-local ones are refused by default (403).
  conference::WebhookTargetPolicy webhook_policy;

  // GET /v1/events: streams per key and overall, and the control loop's timers, on which open
  // streams' keys are checked again (null: only when a stream opens).
  EventStreamLimits event_streams;
  TimerQueue* timers = nullptr;
  // Recordings (conference/recording); null: the recording routes answer 503.
  conference::RecordingService* recordings = nullptr;
  // SIP trunks (issue 15): the live view REST writes after the store (its listener applies a change
  // to the registrations) and the registration status GET shows; null: the store only.
  conference::TrunkDirectory* trunks = nullptr;

  // Issue 13, a single node's in-memory read paths (null: every request reads the store). The keys
  // the Authenticator remembers by hash: deleting a key clears it before the 204. The GET /v1/rooms
  // answer, rebuilt from the store after a room changes and served on the HTTP thread.
  ApiKeyCache* key_cache = nullptr;
  RoomListSnapshot* room_list = nullptr;

  // Issue 14, several nodes on one PostgreSQL store (conference/cluster/). Unset on a single node,
  // where nothing below changes an answer.
  // This node's id: live conferences are listed with "node" when it is set (clustered).
  std::string node_id;
  // The REST URL (http://host:port) of the node whose unexpired placement holds a room's live
  // conference, when that is another node: requests about it answer 307 (cluster_redirect.hpp).
  std::function<std::optional<std::string>(std::string_view room_id)> conference_node_url;
  // GET /v1/system: {"node_id", "draining", "live_conferences", "clustered"}.
  std::function<nlohmann::json()> system_status;
  // Clustered only: POST /v1/system/drain (true) and DELETE (false) start and end this node's
  // drain: it takes no new conference (SIP OPTIONS 503) and keeps its live ones. Unset: POST is
  // the process drain above (`drain`), DELETE answers 409.
  std::function<void(bool draining)> cluster_drain;

  // Issue 13, group commit: a `write_group` route's side effects (calendar, events) go through
  // here, so that inside a write group they wait for its commit (write_group.hpp).
  CommitEffects commit_effects;
};

// Lists: `limit` (default 50, 1..200) and `page_token` (the last id of the previous page).
inline constexpr std::size_t kDefaultPageSize = 50;
inline constexpr std::size_t kMaxPageSize = 200;

}  // namespace chorus::rest
