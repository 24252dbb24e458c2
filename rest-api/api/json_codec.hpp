// The /v1 JSON forms of rooms and meetings (snake_case members), their conversion to and from the
// domain types, RFC 3339 times and cursor pagination.
//
// Input rules, shared by create (POST) and JSON merge patch (PATCH, RFC 7396):
// - a member the resource does not have is an error ("unknown field"), and so is an output-only
//   member (id after creation, sip_uri, created_at, updated_at, sequence, cancelled, version,
//   join_url);
// - a wrong JSON type, an out-of-range value or a bad format is an error at that member;
// - `null` clears an optional member (dial_in_number, pins, default_layout, rrule, organizer, ...)
//   or resets one with a default (timezone → "UTC", join_window_before → 10); it is an error for
//   a required one (name, title, start, end, room_id, mode, ...).
// Every error is collected, so one 422 answer lists them all (`field` is a JSON Pointer, RFC 6901).
//
// Times: RFC 3339 §5.6 `date-time`. Any offset is accepted and converted to UTC ("...T10:00:00+01:00"
// is 09:00Z); output is always UTC with `Z`. Fractional seconds are accepted and truncated: the
// schedule and iCalendar work in whole seconds (RFC 5545 §3.3.5). Years are limited to 1970..2200
// (a nanosecond system_clock holds up to 2262), and leap seconds (":60") are refused.
//
// Threading: pure functions, any thread (generate_id uses the OpenSSL CSPRNG, which is thread-safe).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "conference/room.hpp"
#include "conference/schedule/meeting.hpp"
#include "conference/store/records.hpp"
#include "rest-api/http_message.hpp"
#include "rest-api/problem.hpp"
#include "rest-api/request_target.hpp"

namespace chorus::rest {

// The JSON Pointer (RFC 6901) naming a top-level member, as problem+json errors[] fields carry it.
std::string pointer_to(std::string_view member);

using TimePoint = std::chrono::system_clock::time_point;

// --- Times -----------------------------------------------------------------------------------

inline constexpr int kMinRfc3339Year = 1970;
inline constexpr int kMaxRfc3339Year = 2200;

// RFC 3339 §5.6 date-time ("2026-11-26T09:00:00Z", "2026-11-26T10:00:00.5+01:00"), as a UTC
// instant in whole seconds; nullopt when it is not one (see the header comment for the limits).
[[nodiscard]] std::optional<TimePoint> parse_rfc3339(std::string_view text);
// "2026-11-26T09:00:00Z": UTC, whole seconds.
[[nodiscard]] std::string format_rfc3339(TimePoint at);

// --- Ids -------------------------------------------------------------------------------------

inline constexpr std::size_t kMaxIdLength = 64;
inline constexpr std::size_t kGeneratedIdLength = 12;  // random alphanumerics after the prefix
inline constexpr std::string_view kRoomIdPrefix = "r_";
inline constexpr std::string_view kMeetingIdPrefix = "m_";

// [A-Za-z0-9_-]{1,64}: safe in a path segment, a SIP URI user part and an iCalendar UID.
[[nodiscard]] bool is_valid_id(std::string_view id);
// `prefix` + kGeneratedIdLength characters of [A-Za-z0-9] from the OpenSSL CSPRNG (62^12 ≈ 2^71
// values, so a clash with an existing id is left to the store's uniqueness check). Throws
// std::runtime_error if the CSPRNG fails (control path: the router turns it into a 500).
[[nodiscard]] std::string generate_id(std::string_view prefix);

// --- Rooms -----------------------------------------------------------------------------------

inline constexpr std::size_t kMaxRoomNameLength = 200;  // characters (UTF-8 code points)
inline constexpr std::size_t kMinDialInDigits = 3;
inline constexpr std::size_t kMaxDialInDigits = 15;  // E.164 §6.1: at most 15 digits
inline constexpr std::size_t kMinRoomPinDigits = 4;
inline constexpr std::size_t kMaxRoomPinDigits = 12;
// A new PIN shorter than this is refused unless the server's min_pin_digits allows it (then it is
// taken with a warning in the log): 10^6 guesses, against PinGuard's 5 per source per lockout.
inline constexpr std::size_t kRecommendedPinDigits = 6;
inline constexpr std::size_t kMaxRoomParticipants = 1000;
inline constexpr std::size_t kMaxLayoutLength = 64;

// How callers reach the room: "sip:<id>@<sip_host>".
[[nodiscard]] std::string room_sip_uri(std::string_view room_id, std::string_view sip_host);

// The room's JSON, with "pin_set" and "moderator_pin_set" always. `with_pins` false leaves pin and
// moderator_pin out (event payloads, which reach webhooks and event-stream readers, and answers to
// keys without rooms:secrets).
[[nodiscard]] nlohmann::json room_to_json(const conference::Room& room, std::string_view sip_host,
                                          bool with_pins = true);

// Applies `body` (a JSON object) to `room`: `creating` for POST (then `id` may be given and `name`
// is required), else a merge patch. `room` is changed only where a member is valid; the answer
// lists every error (empty: the room is valid).
std::vector<FieldError> apply_room_json(const nlohmann::json& body, conference::Room& room, bool creating);

// --- Meetings --------------------------------------------------------------------------------

inline constexpr std::chrono::minutes kDefaultJoinWindowBefore{10};

[[nodiscard]] conference::Meeting meeting_from_record(const conference::MeetingRecord& record);
[[nodiscard]] conference::MeetingRecord meeting_to_record(const conference::Meeting& meeting);

// The page that joins `room_id` from a browser: "<web_base_url>/?room=<room id>" (ids need no
// percent-encoding, see is_valid_id); empty when `web_base_url` is.
[[nodiscard]] std::string room_join_url(std::string_view web_base_url, std::string_view room_id);

// The meeting's JSON; `with_pin` false leaves the PIN out (event payloads). `join_url` is
// room_join_url(web_base_url, room_id), null when there is no base URL.
[[nodiscard]] nlohmann::json meeting_to_json(const conference::Meeting& meeting, bool with_pin = true,
                                             std::string_view web_base_url = {});

// As apply_room_json, for meetings: `creating` requires room_id, title, start and end. Checks JSON
// types and formats only; validate_meeting (conference/schedule) then checks the values.
std::vector<FieldError> apply_meeting_json(const nlohmann::json& body, conference::Meeting& meeting, bool creating);

// validate_meeting's field names ("attendees[3]") as JSON Pointers ("/attendees/3").
[[nodiscard]] std::vector<FieldError> to_field_errors(const std::vector<conference::FieldError>& errors);

// --- Pagination ------------------------------------------------------------------------------

inline constexpr std::size_t kMaxPageTokenLength = 256;

struct PageRequest {
  std::size_t limit = 0;  // 1..kMaxPageSize
  std::string after_id;   // the page_token: the last id of the previous page; empty: the first page
};

// `limit` (default kDefaultPageSize, 1..kMaxPageSize) and `page_token`; 400 (bad-request, with
// errors[] naming the parameter) when either is malformed.
std::expected<PageRequest, HttpResponse> parse_page(const QueryParams& query);

// {"items": [...], "next_page_token": <the last item's id, or null>}. `items` holds what the store
// returned for limit + 1 (the handlers ask for one more than the page): a surplus item means there
// is a next page, and is dropped.
template <typename Record, typename ToJson>
nlohmann::json page_body(const std::vector<Record>& fetched, std::size_t limit, ToJson&& to_json) {
  nlohmann::json items = nlohmann::json::array();
  const std::size_t count = fetched.size() < limit ? fetched.size() : limit;
  for (std::size_t i = 0; i < count; ++i) items.push_back(to_json(fetched[i]));
  nlohmann::json next = nullptr;
  if (fetched.size() > limit && count > 0) next = fetched[count - 1].id;
  return nlohmann::json{{"items", std::move(items)}, {"next_page_token", std::move(next)}};
}

}  // namespace chorus::rest
