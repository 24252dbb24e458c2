// The conference event log: every domain change (a participant joined, a room was updated, ...)
// becomes one Event with a monotonic id. The log feeds two consumers with the same events:
// `GET /v1/events` (Server-Sent Events, resumable with Last-Event-ID, WHATWG HTML §9.2) and the
// webhook dispatcher (rest-api/webhooks/).
//
// Threading model:
// - publish() is called on the control loop only (one producer). It assigns ids 1, 2, 3, ... (or
//   from `first_id`), so each subscriber sees events in id order.
// - since(), last_id(), subscribe() and Subscription destruction may be called from any thread
//   (the REST thread's SSE sessions). One mutex guards the ring and the subscriber list; it is
//   never held while a callback runs.
// - A callback runs on the publishing thread, right after the event is stored. It must be quick
//   and must not block (post the event to its own executor/queue). Each subscription has its own
//   small call mutex, so when a Subscription is destroyed on another thread, destruction waits for
//   an in-flight call of that callback to return, and no call starts afterwards. A callback may
//   destroy its own Subscription (it is then not called again), and may call since()/subscribe().
//
// Resuming a stream without gaps or duplicates: subscribe first (buffer what arrives), then read
// since(last_event_id) for the backlog, then forward buffered/live events whose id is greater than
// the last one sent.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace chorus::conference {

// Event type names (the `type` of an Event, the SSE `event:` field and a webhook's event_types).
namespace event_type {
inline constexpr std::string_view kParticipantJoined = "participant.joined";
inline constexpr std::string_view kParticipantLeft = "participant.left";
// A dial-out (POST /v1/conferences/{id}/participants) ended without a call: data has status and to.
inline constexpr std::string_view kParticipantDialFailed = "participant.dial_failed";
inline constexpr std::string_view kParticipantMuted = "participant.muted";
inline constexpr std::string_view kParticipantUnmuted = "participant.unmuted";
inline constexpr std::string_view kParticipantTalkingStarted = "participant.talking_started";
inline constexpr std::string_view kParticipantTalkingStopped = "participant.talking_stopped";
// Who a participant sees in each of its video slots changed (data: its slots, in slot order).
inline constexpr std::string_view kVideoSlotsChanged = "video.slots_changed";
// An mcu room's layout or pinned participant changed (data: layout, pinned_participant).
inline constexpr std::string_view kLayoutChanged = "layout.changed";
inline constexpr std::string_view kConferenceLocked = "conference.locked";
inline constexpr std::string_view kConferenceUnlocked = "conference.unlocked";
inline constexpr std::string_view kConferenceStarted = "conference.started";
inline constexpr std::string_view kConferenceEnded = "conference.ended";
inline constexpr std::string_view kRoomCreated = "room.created";
inline constexpr std::string_view kRoomUpdated = "room.updated";
inline constexpr std::string_view kRoomDeleted = "room.deleted";
inline constexpr std::string_view kMeetingCreated = "meeting.created";
inline constexpr std::string_view kMeetingUpdated = "meeting.updated";
inline constexpr std::string_view kMeetingDeleted = "meeting.deleted";
// A source was locked out of PIN entry, or a room guarded (conference/pin_security.hpp): data has
// room_id, scope ("source" | "room"), source (null for a room), failures, until, lockout_seconds.
inline constexpr std::string_view kSecurityPinLockout = "security.pin_lockout";
// A recording of a conference (conference/recording): data is the recording as GET
// /v1/recordings/{id} shows it; failed carries its error (the disk filled up, the file could not be
// written), stopped its reason (requested, conference_ended, quota, shutdown).
inline constexpr std::string_view kRecordingStarted = "recording.started";
inline constexpr std::string_view kRecordingStopped = "recording.stopped";
inline constexpr std::string_view kRecordingFailed = "recording.failed";
// A SIP trunk's outbound registration changed state (issue 15): data has trunk_id, name, state
// (unregistered, registering, registered, failed), last_error and expires_at.
inline constexpr std::string_view kTrunkRegistrationChanged = "trunk.registration_changed";
// A chat message in a conference (conference/chat, issue 15): data has conference_id, room_id,
// seq, sent_at, from {participant_id, display_name}, text and origin (sip | api).
inline constexpr std::string_view kChatMessage = "chat.message";

inline constexpr std::string_view kAll[] = {
    kParticipantJoined,
    kParticipantLeft,
    kParticipantDialFailed,
    kParticipantMuted,
    kParticipantUnmuted,
    kParticipantTalkingStarted,
    kParticipantTalkingStopped,
    kVideoSlotsChanged,
    kLayoutChanged,
    kConferenceLocked,
    kConferenceUnlocked,
    kConferenceStarted,
    kConferenceEnded,
    kRoomCreated,
    kRoomUpdated,
    kRoomDeleted,
    kMeetingCreated,
    kMeetingUpdated,
    kMeetingDeleted,
    kSecurityPinLockout,
    kRecordingStarted,
    kRecordingStopped,
    kRecordingFailed,
    kTrunkRegistrationChanged,
    kChatMessage,
};

// True for one of the names above (validates a webhook's event_types).
bool is_known(std::string_view type);
}  // namespace event_type

struct Event {
  std::uint64_t id = 0;
  std::string type;
  std::chrono::system_clock::time_point at;
  nlohmann::json data;
  // Issue 14: the chorusd node that published it, when another node did and it came here through
  // the shared database (conference/cluster/event_bridge.hpp); empty for this node's own events.
  std::string node;
};

// The wire form shared by SSE `data:` and webhook bodies:
// {"id": N, "type": "...", "timestamp": "2026-11-26T09:00:00Z", "data": {...}}, plus "node": "…"
// for an event another node published.
nlohmann::json event_to_json(const Event& event);

// RFC 3339 UTC with seconds precision ("2026-11-26T09:00:00Z").
std::string format_rfc3339_utc(std::chrono::system_clock::time_point at);

// One SSE message (WHATWG HTML §9.2.6): "id: N\nevent: TYPE\ndata: {json}\n\n". The JSON is
// event_to_json() on one line (nlohmann escapes control characters inside strings); CR/LF in the
// type are replaced by spaces so a field can never end early.
std::string format_sse(const Event& event);

// The answer of EventLog::since().
struct EventBatch {
  std::vector<Event> events;  // ids > last_id, ascending, at most `max`
  // True when some events after last_id can no longer be given: they fell out of the ring, or
  // last_id is ahead of this log (a Last-Event-ID from an earlier run). The SSE client should
  // re-read state; the stream still carries on from the oldest retained event.
  bool lost = false;
};

// Bounds (issue 12, "events are bounded"): at most `capacity` events and none older than `max_age`
// (event_log_max, event_log_max_age); the oldest go first, counted by dropped(). The newest event
// is always kept, so a resuming client still learns where the log is.
class EventLog {
 public:
  static constexpr std::size_t kDefaultCapacity = 10'000;
  static constexpr std::chrono::seconds kDefaultMaxAge{std::chrono::hours(24 * 7)};
  using Callback = std::function<void(const Event&)>;

 private:
  struct Subscriber;

 public:
  // RAII: unsubscribes when destroyed or reset(). Movable, not copyable. May outlive the log.
  class Subscription {
   public:
    Subscription() = default;
    Subscription(Subscription&&) noexcept = default;
    Subscription& operator=(Subscription&& other) noexcept;
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;
    ~Subscription() { reset(); }

    void reset();
    [[nodiscard]] bool active() const { return subscriber_ != nullptr; }

   private:
    friend class EventLog;
    explicit Subscription(std::shared_ptr<Subscriber> subscriber) : subscriber_(std::move(subscriber)) {}
    std::shared_ptr<Subscriber> subscriber_;
  };

  // `capacity` ≥ 1 events are retained; the oldest is dropped when full. `first_id` lets a server
  // continue ids across restarts if it persists the last one. `max_age` 0: no age bound.
  explicit EventLog(std::size_t capacity = kDefaultCapacity, std::uint64_t first_id = 1,
                    std::chrono::seconds max_age = kDefaultMaxAge);
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // Control loop. Stores the event (time = now), then calls every subscriber. Returns a copy.
  // `node`: another node's event relayed here (Event::node); empty for this node's own.
  Event publish(std::string_view type, nlohmann::json data, std::string_view node = {});

  // Any thread. Events with id > last_id, oldest first, at most `max`.
  [[nodiscard]] EventBatch since(std::uint64_t last_id, std::size_t max) const;
  // Any thread. Id of the newest event, first_id - 1 when none was published.
  [[nodiscard]] std::uint64_t last_id() const;
  [[nodiscard]] std::size_t size() const;
  [[nodiscard]] std::size_t capacity() const { return capacity_; }
  // Events dropped from the ring so far (over capacity or too old).
  [[nodiscard]] std::uint64_t dropped() const;
  // Any thread. Drops events older than max_age at `now` (publish() does it too, at the event's
  // time; a timer calls this so a quiet log ages as well). Returns how many were dropped.
  std::size_t prune(std::chrono::system_clock::time_point now);
  [[nodiscard]] std::chrono::seconds max_age() const { return max_age_; }

  // Any thread. `callback` is called for every event published after this returns.
  [[nodiscard]] Subscription subscribe(Callback callback);

 private:
  struct Shared;
  std::size_t prune_locked(std::chrono::system_clock::time_point now);  // shared_->mutex held
  const std::size_t capacity_;
  const std::chrono::seconds max_age_;
  std::shared_ptr<Shared> shared_;  // ring + subscriber list; Subscriptions keep it alive
};

}  // namespace chorus::conference
