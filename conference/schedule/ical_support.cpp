#include "conference/schedule/ical_support.hpp"

namespace chorus::conference::ical_support {

namespace {
// An RRULE longer than this is not a meeting's: the ingress limit for the value.
constexpr std::size_t kMaxRruleLength = 512;
}  // namespace

icaltimezone* find_zone(std::string_view iana_name) {
  if (iana_name.empty() || iana_name.size() > 64) return nullptr;
  const std::string name(iana_name);
  if (name == "UTC") return icaltimezone_get_utc_timezone();
  return icaltimezone_get_builtin_timezone(name.c_str());
}

icaltimetype to_zone_time(TimePoint instant, icaltimezone* zone) {
  const auto seconds = std::chrono::floor<std::chrono::seconds>(instant);
  const auto utc = icaltime_from_timet_with_zone(static_cast<time_t>(seconds.time_since_epoch().count()), 0,
                                                 icaltimezone_get_utc_timezone());
  if (zone == nullptr || zone == icaltimezone_get_utc_timezone()) return utc;
  return icaltime_convert_to_zone(utc, zone);
}

TimePoint to_instant(icaltimetype time, icaltimezone* zone) {
  icaltimezone* utc = icaltimezone_get_utc_timezone();
  const time_t seconds = icaltime_as_timet_with_zone(time, icaltime_is_utc(time) || zone == nullptr ? utc : zone);
  return TimePoint{std::chrono::seconds{seconds}};
}

std::expected<icalrecurrencetype, std::string> parse_rrule(const std::string& rrule) {
  if (rrule.size() > kMaxRruleLength) return std::unexpected("rrule is longer than 512 characters");
  if (rrule.find_first_of("\r\n") != std::string::npos) return std::unexpected("rrule must be one line");
  icalerror_clear_errno();
  const icalrecurrencetype rule = icalrecurrencetype_from_string(rrule.c_str());
  if (rule.freq == ICAL_NO_RECURRENCE || icalerrno != ICAL_NO_ERROR) {
    icalerror_clear_errno();
    return std::unexpected("rrule is not an RFC 5545 recurrence rule (e.g. FREQ=WEEKLY;BYDAY=TH)");
  }
  return rule;
}

}  // namespace chorus::conference::ical_support
