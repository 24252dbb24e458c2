// Meetings: a room's scheduled (and possibly recurring) sessions. A room with meetings admits
// callers only inside an occurrence's join window (occurrences.hpp); invitations go out as
// iCalendar (ics.hpp). The store keeps them; the REST API creates and changes them.
//
// Times are UTC instants; `timezone` names the zone whose wall clock the recurrence follows, so a
// weekly 09:00 Europe/Berlin meeting stays 09:00 in Berlin across daylight-saving changes.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chorus::conference {

struct Meeting {
  using TimePoint = std::chrono::system_clock::time_point;

  std::string id;
  std::string room_id;
  std::string title;
  TimePoint start{};                            // the first occurrence, UTC
  TimePoint end{};                              // its end; every occurrence lasts end - start
  std::string timezone = "UTC";                 // IANA zone name the recurrence follows
  std::string rrule;                            // RFC 5545 §3.3.10 RECUR value ("FREQ=WEEKLY;BYDAY=TH"), empty: once
  std::vector<TimePoint> exdates;               // RFC 5545 §3.8.5.1: starts of occurrences that do not happen
  std::chrono::minutes join_window_before{10};  // callers may join this long before a start
  std::optional<std::string> pin;               // overrides the room's PIN (digits)
  std::string organizer;                        // email, empty: none
  std::vector<std::string> attendees;           // emails
  std::uint32_t sequence = 0;                   // RFC 5545 §3.8.7.4: bumped on each change so calendars update
  bool cancelled = false;
  TimePoint created_at{};
  TimePoint updated_at{};
  std::uint64_t version = 1;  // bumped by every change; the REST ETag
};

// Ingress limits (DESIGN §5): every one is a named constant the REST docs can quote.
inline constexpr std::size_t kMaxMeetingTitleLength = 200;  // characters (UTF-8 code points)
inline constexpr std::chrono::hours kMaxMeetingDuration{24};
inline constexpr std::chrono::minutes kMaxJoinWindowBefore{120};
inline constexpr std::size_t kMinMeetingPinDigits = 4;
inline constexpr std::size_t kMaxMeetingPinDigits = 12;
inline constexpr std::size_t kMaxMeetingAttendees = 200;
inline constexpr std::size_t kMaxMeetingExdates = 1000;
inline constexpr int kMaxRruleCount = 1000;

// One problem with one field; `field` is the Meeting member's name ("attendees[3]" for an
// element), so the REST layer can answer with problem+json listing them all.
struct FieldError {
  std::string field;
  std::string message;

  bool operator==(const FieldError&) const = default;
};

// Everything wrong with `meeting` (field by field); empty when it may be stored. Does not check
// that room_id names a room (the store does) or the id (the store assigns it).
std::vector<FieldError> validate_meeting(const Meeting& meeting);

// Whether libical knows the IANA zone (its builtin table, from the system's tzdata).
bool is_known_timezone(std::string_view iana_name);

// A plausible email address: local@domain.tld, no spaces or specials, at most 254 characters.
bool looks_like_email(std::string_view address);

}  // namespace chorus::conference
