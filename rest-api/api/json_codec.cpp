#include "rest-api/api/json_codec.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <functional>
#include <span>
#include <stdexcept>

#include "conference/events/event_log.hpp"
#include "rest-api/api/api_services.hpp"

namespace chorus::rest {

namespace {

using nlohmann::json;
namespace conf = chorus::conference;

// --- Member helpers --------------------------------------------------------------------------

// One member being applied: where errors go, and under which JSON Pointer.
struct Member {
  std::string field;  // "/name"
  std::vector<FieldError>& errors;
  void fail(std::string message) const { errors.push_back({field, std::move(message)}); }
};

bool all_digits(std::string_view text) {
  return std::ranges::all_of(text, [](char c) { return c >= '0' && c <= '9'; });
}

// Code points of one line of UTF-8 text; nullopt for a control character (nlohmann has already
// refused ill-formed UTF-8 while parsing the body).
std::optional<std::size_t> line_characters(std::string_view text) {
  std::size_t count = 0;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) return std::nullopt;
    if ((byte & 0xc0) != 0x80) ++count;  // not a continuation byte: a new code point
  }
  return count;
}

// An integer member within [min, max]; nullopt for another type or a value outside.
std::optional<std::int64_t> integer_in(const json& value, std::int64_t min, std::int64_t max) {
  if (value.is_number_unsigned()) {
    const auto number = value.get<std::uint64_t>();
    if (number > static_cast<std::uint64_t>(max)) return std::nullopt;
    const auto signed_number = static_cast<std::int64_t>(number);
    return signed_number < min ? std::nullopt : std::optional(signed_number);
  }
  if (value.is_number_integer()) {
    const auto number = value.get<std::int64_t>();
    return number < min || number > max ? std::nullopt : std::optional(number);
  }
  return std::nullopt;
}

// An optional digit string (dial-in number, PIN): null or "" clears it.
void set_digits(const json& value, std::string& target, std::size_t min, std::size_t max, const Member& member,
                std::string_view name) {
  if (value.is_null()) {
    target.clear();
    return;
  }
  const std::string message =
      std::string(name) + " must be a string of " + std::to_string(min) + " to " + std::to_string(max) + " digits";
  if (!value.is_string()) return member.fail(message);
  const auto& text = value.get_ref<const std::string&>();
  if (text.empty()) {
    target.clear();
  } else if (!all_digits(text) || text.size() < min || text.size() > max) {
    member.fail(message);
  } else {
    target = text;
  }
}

// A required string member whose content is checked elsewhere (or by `check`).
bool read_string(const json& value, std::string& target, const Member& member, std::string_view name) {
  if (value.is_null()) {
    member.fail(std::string(name) + " is required");
    return false;
  }
  if (!value.is_string()) {
    member.fail(std::string(name) + " must be a string");
    return false;
  }
  target = value.get<std::string>();
  return true;
}

// An optional free-text member: null clears it.
void set_optional_string(const json& value, std::string& target, const Member& member, std::string_view name) {
  if (value.is_null()) {
    target.clear();
  } else if (!value.is_string()) {
    member.fail(std::string(name) + " must be a string or null");
  } else {
    target = value.get<std::string>();
  }
}

void set_time(const json& value, TimePoint& target, const Member& member, std::string_view name) {
  std::string text;
  if (!read_string(value, text, member, name)) return;
  if (const auto parsed = parse_rfc3339(text)) {
    target = *parsed;
  } else {
    member.fail(std::string(name) + " must be an RFC 3339 date-time such as 2026-11-26T09:00:00Z");
  }
}

void set_room_name(const json& value, conf::Room& room, const Member& member) {
  std::string name;
  if (!read_string(value, name, member, "name")) return;
  const auto characters = line_characters(name);
  if (!characters || *characters == 0 || *characters > kMaxRoomNameLength) {
    return member.fail("name must be 1 to 200 characters of text without control characters");
  }
  room.name = std::move(name);
}

void set_flag(const json& value, bool& target, const Member& member, std::string_view name) {
  if (value.is_boolean()) {
    target = value.get<bool>();
  } else {
    member.fail(std::string(name) + " must be true or false");
  }
}

void set_room_mode(const json& value, conf::Room& room, const Member& member) {
  const auto mode = value.is_string() ? conf::room_mode_from_string(value.get<std::string>()) : std::nullopt;
  if (mode) {
    room.mode = *mode;
  } else {
    member.fail("mode must be \"sfu\", \"mcu\" or \"echo\"");
  }
}

void set_room_sip_video(const json& value, conf::Room& room, const Member& member) {
  const auto video = value.is_string() ? conf::sip_video_from_string(value.get<std::string>()) : std::nullopt;
  if (video) {
    room.sip_video = *video;
  } else {
    member.fail("sip_video must be \"speaker\" or \"composite\"");
  }
}

void set_room_encryption(const json& value, conf::Room& room, const Member& member) {
  if (value == "optional") {
    room.encryption = conf::RoomEncryption::kOptional;
  } else if (value == "required") {
    room.encryption = conf::RoomEncryption::kRequired;
  } else {
    member.fail("encryption must be \"optional\" or \"required\"");
  }
}

void set_room_layout(const json& value, conf::Room& room, const Member& member) {
  std::string layout;
  set_optional_string(value, layout, member, "default_layout");
  if (!value.is_null() && !value.is_string()) return;
  const auto characters = line_characters(layout);
  if (!characters || *characters > kMaxLayoutLength) {
    return member.fail("default_layout must be at most 64 characters without control characters");
  }
  room.default_layout = std::move(layout);
}

// Applies one room member; false when the room has no such writable member.
bool apply_room_member(std::string_view key, const json& value, conf::Room& room, const Member& member) {
  if (key == "name") {
    set_room_name(value, room, member);
  } else if (key == "dial_in_number") {
    set_digits(value, room.dial_in_number, kMinDialInDigits, kMaxDialInDigits, member, "dial_in_number");
  } else if (key == "pin") {
    set_digits(value, room.pin, kMinRoomPinDigits, kMaxRoomPinDigits, member, "pin");
  } else if (key == "moderator_pin") {
    set_digits(value, room.moderator_pin, kMinRoomPinDigits, kMaxRoomPinDigits, member, "moderator_pin");
  } else if (key == "mode") {
    set_room_mode(value, room, member);
  } else if (key == "sip_video") {
    set_room_sip_video(value, room, member);
  } else if (key == "max_participants") {
    if (const auto number = integer_in(value, 1, kMaxRoomParticipants)) {
      room.max_participants = static_cast<std::size_t>(*number);
    } else {
      member.fail("max_participants must be an integer from 1 to 1000");
    }
  } else if (key == "encryption") {
    set_room_encryption(value, room, member);
  } else if (key == "default_layout") {
    set_room_layout(value, room, member);
  } else if (key == "locked") {
    set_flag(value, room.locked, member, key);
  } else if (key == "wait_for_moderator") {
    set_flag(value, room.wait_for_moderator, member, key);
  } else {
    return false;
  }
  return true;
}

// The members a client sees but may not write.
constexpr std::array kRoomOutputOnly = {std::string_view("sip_uri"), std::string_view("created_at"),
                                        std::string_view("version"), std::string_view("pin_set"),
                                        std::string_view("moderator_pin_set")};
constexpr std::array kMeetingOutputOnly = {std::string_view("sequence"),   std::string_view("cancelled"),
                                           std::string_view("created_at"), std::string_view("updated_at"),
                                           std::string_view("version"),    std::string_view("join_url"),
                                           std::string_view("pin_set")};

// The common walk over a body: object check, id, output-only and unknown members, required ones.
// `apply` handles one writable member and answers whether it knows it.
std::vector<FieldError> apply_members(const json& body, bool creating, std::string& id,
                                      std::span<const std::string_view> output_only,
                                      std::span<const std::string_view> required,
                                      const std::function<bool(std::string_view, const json&, const Member&)>& apply) {
  std::vector<FieldError> errors;
  if (!body.is_object()) {
    errors.push_back({"", "the body must be a JSON object"});
    return errors;
  }
  for (const auto& [key, value] : body.items()) {
    const Member member{pointer_to(key), errors};
    if (key == "id") {
      if (!creating) {
        member.fail("id is read-only");
      } else if (!value.is_string() || !is_valid_id(value.get_ref<const std::string&>())) {
        member.fail("id must be 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'");
      } else {
        id = value.get<std::string>();
      }
    } else if (std::ranges::find(output_only, key) != output_only.end()) {
      member.fail(key + " is read-only");
    } else if (!apply(key, value, member)) {
      member.fail("unknown field " + key);
    }
  }
  if (creating) {
    for (const auto name : required) {
      if (!body.contains(name)) errors.push_back({pointer_to(name), std::string(name) + " is required"});
    }
  }
  return errors;
}

// --- Meeting members -------------------------------------------------------------------------

void set_exdates(const json& value, conf::Meeting& meeting, const Member& member) {
  if (value.is_null()) {
    meeting.exdates.clear();
    return;
  }
  if (!value.is_array()) return member.fail("exdates must be an array of RFC 3339 date-times");
  std::vector<TimePoint> exdates;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const Member element{member.field + "/" + std::to_string(i), member.errors};
    TimePoint at{};
    set_time(value[i], at, element, "exdate");
    exdates.push_back(at);
  }
  meeting.exdates = std::move(exdates);
}

void set_attendees(const json& value, conf::Meeting& meeting, const Member& member) {
  if (value.is_null()) {
    meeting.attendees.clear();
    return;
  }
  if (!value.is_array()) return member.fail("attendees must be an array of email addresses");
  std::vector<std::string> attendees;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (!value[i].is_string()) {
      member.errors.push_back({member.field + "/" + std::to_string(i), "attendee must be a string"});
      continue;
    }
    attendees.push_back(value[i].get<std::string>());
  }
  meeting.attendees = std::move(attendees);
}

bool apply_meeting_member(std::string_view key, const json& value, conf::Meeting& meeting, const Member& member) {
  if (key == "room_id") {
    std::string room_id;
    if (!read_string(value, room_id, member, "room_id")) return true;
    if (is_valid_id(room_id)) {
      meeting.room_id = std::move(room_id);
    } else {
      member.fail("room_id must be a room id (1 to 64 characters of A-Z, a-z, 0-9, '_' and '-')");
    }
  } else if (key == "title") {
    read_string(value, meeting.title, member, "title");
  } else if (key == "start") {
    set_time(value, meeting.start, member, "start");
  } else if (key == "end") {
    set_time(value, meeting.end, member, "end");
  } else if (key == "timezone") {
    if (value.is_null()) {
      meeting.timezone = "UTC";
    } else {
      read_string(value, meeting.timezone, member, "timezone");
    }
  } else if (key == "rrule") {
    set_optional_string(value, meeting.rrule, member, "rrule");
  } else if (key == "exdates") {
    set_exdates(value, meeting, member);
  } else if (key == "join_window_before") {
    if (value.is_null()) {
      meeting.join_window_before = kDefaultJoinWindowBefore;
    } else if (const auto minutes = integer_in(value, 0, conf::kMaxJoinWindowBefore.count())) {
      meeting.join_window_before = std::chrono::minutes{*minutes};
    } else {
      member.fail("join_window_before must be an integer from 0 to 120 (minutes)");
    }
  } else if (key == "pin") {
    if (value.is_null()) {
      meeting.pin.reset();
    } else if (std::string pin; read_string(value, pin, member, "pin")) {
      meeting.pin = std::move(pin);
    }
  } else if (key == "organizer") {
    set_optional_string(value, meeting.organizer, member, "organizer");
  } else if (key == "attendees") {
    set_attendees(value, meeting, member);
  } else {
    return false;
  }
  return true;
}

json optional_text(const std::string& text) {
  return text.empty() ? json(nullptr) : json(text);
}

// --- RFC 3339 --------------------------------------------------------------------------------

// `count` digits at `pos`, advancing it; nullopt when they are not there.
std::optional<int> read_digits(std::string_view text, std::size_t& pos, std::size_t count) {
  if (pos + count > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  pos += count;
  return value;
}

bool expect(std::string_view text, std::size_t& pos, std::string_view one_of) {
  if (pos >= text.size() || one_of.find(text[pos]) == std::string_view::npos) return false;
  ++pos;
  return true;
}

// RFC 3339 §5.6 time-offset: "Z" / ("+" / "-") time-hour ":" time-minute, in seconds east of UTC.
std::optional<std::chrono::seconds> read_offset(std::string_view text, std::size_t& pos) {
  if (expect(text, pos, "Zz")) return std::chrono::seconds{0};
  if (pos >= text.size()) return std::nullopt;
  const bool negative = text[pos] == '-';
  if (!expect(text, pos, "+-")) return std::nullopt;
  const auto hours = read_digits(text, pos, 2);
  if (!hours || !expect(text, pos, ":")) return std::nullopt;
  const auto minutes = read_digits(text, pos, 2);
  if (!minutes || *hours > 23 || *minutes > 59) return std::nullopt;
  const std::chrono::seconds offset = std::chrono::hours{*hours} + std::chrono::minutes{*minutes};
  return negative ? -offset : offset;
}

}  // namespace

// RFC 6901 §3: '~' is written "~0" and '/' "~1" inside a reference token.
std::string pointer_to(std::string_view member) {
  std::string out = "/";
  for (const char c : member) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<TimePoint> parse_rfc3339(std::string_view text) {
  using namespace std::chrono;
  std::size_t pos = 0;
  const auto year = read_digits(text, pos, 4);
  if (!year || !expect(text, pos, "-")) return std::nullopt;
  const auto month = read_digits(text, pos, 2);
  if (!month || !expect(text, pos, "-")) return std::nullopt;
  const auto day = read_digits(text, pos, 2);
  // §5.6 requires "T"; the note there allows lowercase (and a space, which we do not take).
  if (!day || !expect(text, pos, "Tt")) return std::nullopt;
  const auto hour = read_digits(text, pos, 2);
  if (!hour || !expect(text, pos, ":")) return std::nullopt;
  const auto minute = read_digits(text, pos, 2);
  if (!minute || !expect(text, pos, ":")) return std::nullopt;
  const auto second = read_digits(text, pos, 2);
  if (!second) return std::nullopt;
  if (expect(text, pos, ".")) {  // time-secfrac: at least one digit, truncated
    const std::size_t first = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    if (pos == first) return std::nullopt;
  }
  const auto offset = read_offset(text, pos);
  if (!offset || pos != text.size()) return std::nullopt;
  const year_month_day date{std::chrono::year{*year}, std::chrono::month{static_cast<unsigned>(*month)},
                            std::chrono::day{static_cast<unsigned>(*day)}};
  // §5.7: a leap second (:60) names an instant a POSIX clock cannot represent; refuse it.
  if (*year < kMinRfc3339Year || *year > kMaxRfc3339Year || !date.ok() || *hour > 23 || *minute > 59 || *second > 59) {
    return std::nullopt;
  }
  const auto local = sys_days{date} + hours{*hour} + minutes{*minute} + seconds{*second};
  return TimePoint{local - *offset};
}

std::string format_rfc3339(TimePoint at) {
  return conf::format_rfc3339_utc(std::chrono::floor<std::chrono::seconds>(at));
}

bool is_valid_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  return std::ranges::all_of(id, [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

std::string generate_id(std::string_view prefix) {
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  // Rejection sampling keeps every character equally likely: bytes ≥ 248 (4 × 62) are dropped.
  constexpr unsigned kUsable = 4 * 62;
  std::string id(prefix);
  std::array<unsigned char, 32> random{};
  while (id.size() < prefix.size() + kGeneratedIdLength) {
    if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
      throw std::runtime_error("the OpenSSL CSPRNG failed");
    }
    for (const unsigned char byte : random) {
      if (byte >= kUsable || id.size() == prefix.size() + kGeneratedIdLength) continue;
      id += kAlphabet[byte % kAlphabet.size()];
    }
  }
  return id;
}

std::string room_sip_uri(std::string_view room_id, std::string_view sip_host) {
  return std::string("sip:").append(room_id).append("@").append(sip_host);
}

json room_to_json(const conf::Room& room, std::string_view sip_host, bool with_pins) {
  json out{
      {"id", room.id},
      {"name", room.name},
      {"dial_in_number", optional_text(room.dial_in_number)},
      {"sip_uri", room_sip_uri(room.id, sip_host)},
      {"mode", conf::to_string(room.mode)},
      {"max_participants", room.max_participants},
      {"encryption", room.encryption == conf::RoomEncryption::kRequired ? "required" : "optional"},
      {"default_layout", optional_text(room.default_layout)},
      {"sip_video", conf::to_string(room.sip_video)},
      {"locked", room.locked},
      {"wait_for_moderator", room.wait_for_moderator},
      {"created_at", format_rfc3339(room.created_at)},
      {"version", room.version},
  };
  // Whether the room has PINs is not a secret; the PINs are (rooms:secrets or admin only).
  out["pin_set"] = !room.pin.empty();
  out["moderator_pin_set"] = !room.moderator_pin.empty();
  if (with_pins) {
    out["pin"] = optional_text(room.pin);
    out["moderator_pin"] = optional_text(room.moderator_pin);
  }
  return out;
}

std::vector<FieldError> apply_room_json(const json& body, conf::Room& room, bool creating) {
  static constexpr std::array<std::string_view, 1> kRequired = {"name"};
  auto errors = apply_members(body, creating, room.id, kRoomOutputOnly, kRequired,
                              [&room](std::string_view key, const json& value, const Member& member) {
                                return apply_room_member(key, value, room, member);
                              });
  // The PIN prompt tells callers from moderators by the digits alone.
  if (errors.empty() && !room.pin.empty() && room.pin == room.moderator_pin) {
    errors.push_back({"/moderator_pin", "moderator_pin must differ from pin"});
  }
  return errors;
}

conf::Meeting meeting_from_record(const conf::MeetingRecord& record) {
  conf::Meeting meeting;
  meeting.id = record.id;
  meeting.room_id = record.room_id;
  meeting.title = record.title;
  meeting.start = record.start;
  meeting.end = record.end;
  meeting.timezone = record.timezone.empty() ? "UTC" : record.timezone;
  meeting.rrule = record.rrule;
  meeting.exdates = record.exdates;
  meeting.join_window_before = record.join_window_before;
  meeting.pin = record.pin;
  meeting.organizer = record.organizer;
  meeting.attendees = record.attendees;
  meeting.sequence = record.sequence;
  meeting.cancelled = record.cancelled;
  meeting.created_at = record.created_at;
  meeting.updated_at = record.updated_at;
  meeting.version = record.version;
  return meeting;
}

conf::MeetingRecord meeting_to_record(const conf::Meeting& meeting) {
  conf::MeetingRecord record;
  record.id = meeting.id;
  record.room_id = meeting.room_id;
  record.title = meeting.title;
  record.start = meeting.start;
  record.end = meeting.end;
  record.timezone = meeting.timezone;
  record.rrule = meeting.rrule;
  record.exdates = meeting.exdates;
  record.join_window_before = meeting.join_window_before;
  record.pin = meeting.pin;
  record.organizer = meeting.organizer;
  record.attendees = meeting.attendees;
  record.sequence = meeting.sequence;
  record.cancelled = meeting.cancelled;
  record.created_at = meeting.created_at;
  record.updated_at = meeting.updated_at;
  record.version = meeting.version;
  return record;
}

std::string room_join_url(std::string_view web_base_url, std::string_view room_id) {
  if (web_base_url.empty()) return {};
  return std::string(web_base_url).append("/?room=").append(room_id);
}

json meeting_to_json(const conf::Meeting& meeting, bool with_pin, std::string_view web_base_url) {
  json exdates = json::array();
  for (const auto at : meeting.exdates) exdates.push_back(format_rfc3339(at));
  json out{
      {"id", meeting.id},
      {"room_id", meeting.room_id},
      {"title", meeting.title},
      {"start", format_rfc3339(meeting.start)},
      {"end", format_rfc3339(meeting.end)},
      {"timezone", meeting.timezone},
      {"rrule", optional_text(meeting.rrule)},
      {"exdates", std::move(exdates)},
      {"join_window_before", meeting.join_window_before.count()},
      {"organizer", optional_text(meeting.organizer)},
      {"attendees", meeting.attendees},
      {"sequence", meeting.sequence},
      {"cancelled", meeting.cancelled},
      {"created_at", format_rfc3339(meeting.created_at)},
      {"updated_at", format_rfc3339(meeting.updated_at)},
      {"version", meeting.version},
      {"join_url", optional_text(room_join_url(web_base_url, meeting.room_id))},
  };
  out["pin_set"] = meeting.pin.has_value() && !meeting.pin->empty();
  if (with_pin) out["pin"] = meeting.pin ? json(*meeting.pin) : json(nullptr);
  return out;
}

std::vector<FieldError> apply_meeting_json(const json& body, conf::Meeting& meeting, bool creating) {
  static constexpr std::array<std::string_view, 4> kRequired = {"room_id", "title", "start", "end"};
  return apply_members(body, creating, meeting.id, kMeetingOutputOnly, kRequired,
                       [&meeting](std::string_view key, const json& value, const Member& member) {
                         return apply_meeting_member(key, value, meeting, member);
                       });
}

std::vector<FieldError> to_field_errors(const std::vector<conf::FieldError>& errors) {
  std::vector<FieldError> out;
  out.reserve(errors.size());
  for (const auto& error : errors) {
    std::string field = "/";
    for (const char c : error.field) {
      if (c == '[') {
        field += '/';
      } else if (c != ']') {
        field += c;
      }
    }
    out.push_back({std::move(field), error.message});
  }
  return out;
}

std::expected<PageRequest, HttpResponse> parse_page(const QueryParams& query) {
  PageRequest page{kDefaultPageSize, {}};
  if (const auto limit = query.get("limit")) {
    std::size_t value = 0;
    const auto* end = limit->data() + limit->size();
    const auto [ptr, ec] = std::from_chars(limit->data(), end, value);
    if (limit->empty() || ec != std::errc{} || ptr != end || value < 1 || value > kMaxPageSize) {
      return std::unexpected(
          bad_request("limit must be an integer from 1 to 200", {{"limit", "limit must be an integer from 1 to 200"}}));
    }
    page.limit = value;
  }
  if (const auto token = query.get("page_token"); token && !token->empty()) {
    // Tokens are ids this server handed out as next_page_token.
    if (token->size() > kMaxPageTokenLength || !is_valid_id(*token)) {
      return std::unexpected(
          bad_request("page_token is not one this server issued", {{"page_token", "not a page token"}}));
    }
    page.after_id = std::string(*token);
  }
  return page;
}

}  // namespace chorus::rest
