// The store's records besides `Room` (conference/room.hpp): meetings, API keys, webhooks and
// their deliveries, as the REST issue's design lists them. Plain values; the store checks nothing
// about their content (the REST layer validates input) beyond uniqueness and references.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace chorus::conference {

// A scheduled meeting as stored. The schedule's `Meeting` (conference/schedule/meeting.hpp)
// converts to and from it; field names are the same.
struct MeetingRecord {
  std::string id;
  std::string room_id;  // the room it takes place in; deleting the room deletes the meeting
  std::string title;
  std::chrono::system_clock::time_point start{};  // first occurrence, UTC
  std::chrono::system_clock::time_point end{};
  std::string timezone;  // IANA name the RRULE expands in, e.g. "Europe/Paris"
  std::string rrule;     // RFC 5545 §3.3.10 RECUR value without "RRULE:", empty: one occurrence
  std::vector<std::chrono::system_clock::time_point> exdates;  // RFC 5545 §3.8.5.1, UTC instants
  std::chrono::minutes join_window_before{0};                  // callers may join this long before the start
  std::optional<std::string> pin;                              // overrides the room's PIN when set
  std::string organizer;
  std::vector<std::string> attendees;  // e-mail addresses
  std::uint32_t sequence = 0;          // RFC 5545 §3.8.7.4 SEQUENCE, bumped by the schedule
  bool cancelled = false;
  std::chrono::system_clock::time_point created_at{};
  std::chrono::system_clock::time_point updated_at{};
  std::uint64_t version = 1;  // the store's optimistic-concurrency counter; the REST ETag
};

// An API key. The token is shown once at creation; only its SHA-256 (hex) is stored.
struct ApiKey {
  std::string id;
  std::string name;
  std::vector<std::string> scopes;  // subset of rooms:read rooms:write meetings:write conferences:moderate
  std::string token_hash;           // lowercase hex SHA-256 of the token, unique
  std::chrono::system_clock::time_point created_at{};
};

struct Webhook {
  std::string id;
  std::string url;
  std::vector<std::string> event_types;
  std::string secret;  // HMAC key for the signature header
  std::chrono::system_clock::time_point created_at{};
};

enum class DeliveryStatus { kPending, kDelivered, kFailed };

// One delivery of one event to one webhook. The store assigns ids in insertion order, so a
// webhook's deliveries list oldest first; deleting the webhook deletes them.
struct WebhookDelivery {
  std::int64_t id = 0;  // assigned by add_delivery
  std::string webhook_id;
  std::string event_id;
  std::uint32_t attempt = 0;
  DeliveryStatus status = DeliveryStatus::kPending;
  std::optional<int> http_status;  // the receiver's answer, none when no answer came
  std::string error;               // why it failed, empty otherwise
  std::chrono::system_clock::time_point at{};
};

}  // namespace chorus::conference
