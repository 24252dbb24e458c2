#include "conference/schedule/meeting.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "conference/schedule/ical_support.hpp"

namespace chorus::conference {

namespace {

constexpr std::size_t kMaxEmailLength = 254;      // RFC 5321 §4.5.3.1.3 path limit less the brackets
constexpr std::size_t kMaxEmailLocalLength = 64;  // RFC 5321 §4.5.3.1.1

// The number of code points in `text`, or nullopt when it is not UTF-8 or holds a control
// character (a title is one line of text).
std::optional<std::size_t> count_title_characters(std::string_view text) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < text.size(); ++count) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = 1;
    if (lead < 0x80) {
      if (lead < 0x20 || lead == 0x7f) return std::nullopt;
    } else if ((lead & 0xe0) == 0xc0 && lead >= 0xc2) {
      length = 2;
    } else if ((lead & 0xf0) == 0xe0) {
      length = 3;
    } else if ((lead & 0xf8) == 0xf0 && lead <= 0xf4) {
      length = 4;
    } else {
      return std::nullopt;
    }
    if (i + length > text.size()) return std::nullopt;
    for (std::size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) return std::nullopt;
    }
    i += length;
  }
  return count;
}

void check_title(const Meeting& meeting, std::vector<FieldError>& errors) {
  const auto characters = count_title_characters(meeting.title);
  if (!characters) {
    errors.push_back({"title", "title must be UTF-8 text without control characters"});
  } else if (*characters == 0 || *characters > kMaxMeetingTitleLength) {
    errors.push_back({"title", "title must be 1 to 200 characters"});
  }
}

void check_times(const Meeting& meeting, std::vector<FieldError>& errors) {
  if (meeting.end <= meeting.start) {
    errors.push_back({"end", "end must be after start"});
  } else if (meeting.end - meeting.start > kMaxMeetingDuration) {
    errors.push_back({"end", "a meeting lasts at most 24 hours"});
  }
}

// RFC 5545 §3.3.10 and §3.8.5.3. Also checks that `start` is the rule's first instance: libical
// does not return a DTSTART the rule does not match, and calendars disagree on whether it is one.
void check_rrule(const Meeting& meeting, icaltimezone* zone, std::vector<FieldError>& errors) {
  if (meeting.rrule.empty()) return;
  const auto rule = ical_support::parse_rrule(meeting.rrule);
  if (!rule) {
    errors.push_back({"rrule", rule.error()});
    return;
  }
  const bool has_until = !icaltime_is_null_time(rule->until);
  if (rule->freq == ICAL_SECONDLY_RECURRENCE || rule->freq == ICAL_MINUTELY_RECURRENCE) {
    errors.push_back({"rrule", "a meeting repeats at most hourly"});
  } else if (rule->count > kMaxRruleCount) {
    errors.push_back({"rrule", "rrule COUNT must be at most 1000"});
  } else if (has_until && rule->count > 0) {
    errors.push_back({"rrule", "rrule must not have both COUNT and UNTIL"});
  } else if (has_until && (rule->until.is_date || !icaltime_is_utc(rule->until))) {
    // RFC 5545 §3.3.10: UNTIL has DTSTART's value type (DATE-TIME) and, DTSTART being zoned, is UTC.
    errors.push_back({"rrule", "rrule UNTIL must be a UTC time ending in Z"});
  } else if (zone != nullptr && meeting.end > meeting.start) {
    const ical_support::RecurIteratorPtr iterator(
        icalrecur_iterator_new(*rule, ical_support::to_zone_time(meeting.start, zone)));
    if (!iterator) {
      errors.push_back({"rrule", "rrule yields no occurrence"});
      return;
    }
    const icaltimetype first = icalrecur_iterator_next(iterator.get());
    if (icaltime_is_null_time(first) ||
        ical_support::to_instant(first, zone) != std::chrono::floor<std::chrono::seconds>(meeting.start)) {
      errors.push_back({"start", "start must be the first occurrence of rrule"});
    }
  }
}

void check_pin(const Meeting& meeting, std::vector<FieldError>& errors) {
  if (!meeting.pin) return;
  const std::string& pin = *meeting.pin;
  const bool digits = std::ranges::all_of(pin, [](char c) { return c >= '0' && c <= '9'; });
  if (!digits || pin.size() < kMinMeetingPinDigits || pin.size() > kMaxMeetingPinDigits) {
    errors.push_back({"pin", "pin must be 4 to 12 digits"});
  }
}

void check_people(const Meeting& meeting, std::vector<FieldError>& errors) {
  if (!meeting.organizer.empty() && !looks_like_email(meeting.organizer)) {
    errors.push_back({"organizer", "organizer must be an email address"});
  }
  if (meeting.attendees.size() > kMaxMeetingAttendees) {
    errors.push_back({"attendees", "a meeting has at most 200 attendees"});
    return;
  }
  std::set<std::string> seen;
  for (std::size_t i = 0; i < meeting.attendees.size(); ++i) {
    const std::string& attendee = meeting.attendees[i];
    const std::string field = "attendees[" + std::to_string(i) + "]";
    std::string lowered = attendee;
    std::ranges::transform(lowered, lowered.begin(), [](unsigned char c) { return std::tolower(c); });
    if (!looks_like_email(attendee)) {
      errors.push_back({field, "attendee must be an email address"});
    } else if (!seen.insert(lowered).second) {
      errors.push_back({field, "attendee is listed twice"});
    }
  }
}

}  // namespace

bool is_known_timezone(std::string_view iana_name) {
  return ical_support::find_zone(iana_name) != nullptr;
}

bool looks_like_email(std::string_view address) {
  if (address.size() > kMaxEmailLength) return false;
  const auto at = address.find('@');
  if (at == std::string_view::npos || at == 0 || at > kMaxEmailLocalLength) return false;
  const std::string_view domain = address.substr(at + 1);
  const auto dot = domain.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == domain.size()) return false;
  if (domain.front() == '-' || domain.find("..") != std::string_view::npos) return false;
  const auto plain = [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f && std::string_view("@<>()[]\\,;:\"").find(c) == std::string_view::npos;
  };
  return std::ranges::all_of(address.substr(0, at), plain) && std::ranges::all_of(domain, plain);
}

std::vector<FieldError> validate_meeting(const Meeting& meeting) {
  std::vector<FieldError> errors;
  if (meeting.room_id.empty()) errors.push_back({"room_id", "room_id is required"});
  check_title(meeting, errors);
  check_times(meeting, errors);
  icaltimezone* zone = ical_support::find_zone(meeting.timezone);
  if (zone == nullptr) errors.push_back({"timezone", "timezone must be an IANA time zone name (e.g. Europe/Berlin)"});
  check_rrule(meeting, zone, errors);
  if (meeting.exdates.size() > kMaxMeetingExdates) {
    errors.push_back({"exdates", "a meeting has at most 1000 exdates"});
  }
  if (meeting.join_window_before < std::chrono::minutes{0} || meeting.join_window_before > kMaxJoinWindowBefore) {
    errors.push_back({"join_window_before", "join_window_before must be 0 to 120 minutes"});
  }
  check_pin(meeting, errors);
  check_people(meeting, errors);
  return errors;
}

}  // namespace chorus::conference
