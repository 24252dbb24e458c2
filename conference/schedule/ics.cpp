#include "conference/schedule/ics.hpp"

#include "conference/schedule/ical_support.hpp"

namespace chorus::conference {

namespace {

using ical_support::ComponentPtr;
using TimePoint = std::chrono::system_clock::time_point;

// The wall clock of one zone: the VTIMEZONE's TZID is the IANA name itself (not libical's
// "/freeassociation.sourceforge.net/" one), which calendars map to their own zone tables.
struct Zone {
  icaltimezone* zone;
  std::string tzid;
  bool utc;
};

// RFC 5545 §3.3.5 form 3 (TZID=) for a zoned meeting, form 2 (UTC, "Z") for a UTC one.
void add_time(icalcomponent* event, icalproperty* property, const Zone& zone) {
  if (!zone.utc) icalproperty_add_parameter(property, icalparameter_new_tzid(zone.tzid.c_str()));
  icalcomponent_add_property(event, property);
}

icaltimetype utc_time(TimePoint instant) {
  return ical_support::to_zone_time(instant, nullptr);
}

// RFC 5545 §3.6.5: the zone's observances from the meeting's start on; ms_compatible keeps each
// rule's original DTSTART, which Outlook requires.
ComponentPtr build_vtimezone(const Meeting& meeting, const Zone& zone) {
  ComponentPtr vtimezone(icalcomponent_new_clone(icaltimezone_get_component(zone.zone)));
  if (!vtimezone) return nullptr;
  icaltimezone_truncate_vtimezone(vtimezone.get(), utc_time(meeting.start), icaltime_null_time(), 1);
  icalproperty* tzid = icalcomponent_get_first_property(vtimezone.get(), ICAL_TZID_PROPERTY);
  if (tzid != nullptr) icalproperty_set_tzid(tzid, zone.tzid.c_str());
  return vtimezone;
}

std::string join_description(const IcsDetails& details) {
  std::string text = "Join by SIP: " + details.sip_uri + "\n";
  if (!details.join_url.empty()) text += "Join from a browser: " + details.join_url + "\n";
  if (!details.dial_in_number.empty()) text += "Dial in: " + details.dial_in_number + "\n";
  if (!details.pin.empty()) text += "PIN: " + details.pin + "\n";
  return text;
}

// RFC 5546 §3.2.2: ORGANIZER and the ATTENDEEs, asked to reply while the meeting is on.
void add_people(icalcomponent* event, const Meeting& meeting) {
  if (!meeting.organizer.empty()) {
    icalcomponent_add_property(event, icalproperty_new_organizer(("mailto:" + meeting.organizer).c_str()));
  }
  for (const std::string& attendee : meeting.attendees) {
    icalproperty* property = icalproperty_new_attendee(("mailto:" + attendee).c_str());
    icalproperty_add_parameter(property, icalparameter_new_cutype(ICAL_CUTYPE_INDIVIDUAL));
    icalproperty_add_parameter(property, icalparameter_new_role(ICAL_ROLE_REQPARTICIPANT));
    if (!meeting.cancelled) {
      icalproperty_add_parameter(property, icalparameter_new_partstat(ICAL_PARTSTAT_NEEDSACTION));
      icalproperty_add_parameter(property, icalparameter_new_rsvp(ICAL_RSVP_TRUE));
    }
    icalcomponent_add_property(event, property);
  }
}

// DTSTART/DTEND in the meeting's zone, the RRULE (§3.8.5.3) and one EXDATE per skipped start
// (§3.8.5.1), written in the zone like DTSTART so every client matches them.
void add_schedule(icalcomponent* event, const Meeting& meeting, const icalrecurrencetype* rule, const Zone& zone) {
  add_time(event, icalproperty_new_dtstart(ical_support::to_zone_time(meeting.start, zone.zone)), zone);
  add_time(event, icalproperty_new_dtend(ical_support::to_zone_time(meeting.end, zone.zone)), zone);
  if (rule != nullptr) icalcomponent_add_property(event, icalproperty_new_rrule(*rule));
  for (const TimePoint exdate : meeting.exdates) {
    add_time(event, icalproperty_new_exdate(ical_support::to_zone_time(exdate, zone.zone)), zone);
  }
}

ComponentPtr build_vevent(const Meeting& meeting, const IcsDetails& details, const icalrecurrencetype* rule,
                          const Zone& zone) {
  ComponentPtr event(icalcomponent_new_vevent());
  icalcomponent* e = event.get();
  icalcomponent_add_property(e, icalproperty_new_uid((meeting.id + "@chorus").c_str()));
  icalcomponent_add_property(e, icalproperty_new_sequence(static_cast<int>(meeting.sequence)));
  icalcomponent_add_property(
      e, icalproperty_new_dtstamp(utc_time(details.dtstamp.value_or(std::chrono::system_clock::now()))));
  if (meeting.created_at != TimePoint{}) {
    icalcomponent_add_property(e, icalproperty_new_created(utc_time(meeting.created_at)));
  }
  if (meeting.updated_at != TimePoint{}) {
    icalcomponent_add_property(e, icalproperty_new_lastmodified(utc_time(meeting.updated_at)));
  }
  add_schedule(e, meeting, rule, zone);
  icalcomponent_add_property(e, icalproperty_new_summary(meeting.title.c_str()));
  icalcomponent_add_property(e, icalproperty_new_location(details.sip_uri.c_str()));
  icalcomponent_add_property(e, icalproperty_new_description(join_description(details).c_str()));
  // RFC 5545 §3.8.4.6: the event's own web page, which calendars show as a link.
  if (!details.join_url.empty()) icalcomponent_add_property(e, icalproperty_new_url(details.join_url.c_str()));
  icalcomponent_add_property(
      e, icalproperty_new_status(meeting.cancelled ? ICAL_STATUS_CANCELLED : ICAL_STATUS_CONFIRMED));
  add_people(e, meeting);
  return event;
}

}  // namespace

std::string_view ics_method(const Meeting& meeting) {
  return meeting.cancelled ? "CANCEL" : "REQUEST";
}

std::string ics_content_type(const Meeting& meeting) {
  return "text/calendar; charset=utf-8; method=" + std::string(ics_method(meeting));
}

std::expected<std::string, std::string> to_ics(const Meeting& meeting, const IcsDetails& details) {
  icaltimezone* zone = ical_support::find_zone(meeting.timezone);
  if (zone == nullptr) return std::unexpected("unknown timezone " + meeting.timezone);
  const Zone meeting_zone{zone, meeting.timezone, zone == icaltimezone_get_utc_timezone()};
  std::optional<icalrecurrencetype> rule;
  if (!meeting.rrule.empty()) {
    auto parsed = ical_support::parse_rrule(meeting.rrule);
    if (!parsed) return std::unexpected(parsed.error());
    rule = *parsed;
  }
  ComponentPtr calendar(icalcomponent_new_vcalendar());
  icalcomponent* c = calendar.get();
  icalcomponent_add_property(c, icalproperty_new_prodid(details.product_id.c_str()));
  icalcomponent_add_property(c, icalproperty_new_version("2.0"));
  icalcomponent_add_property(c, icalproperty_new_calscale("GREGORIAN"));
  icalcomponent_add_property(c, icalproperty_new_method(meeting.cancelled ? ICAL_METHOD_CANCEL : ICAL_METHOD_REQUEST));
  if (!meeting_zone.utc) {
    ComponentPtr vtimezone = build_vtimezone(meeting, meeting_zone);
    if (!vtimezone) return std::unexpected("libical has no VTIMEZONE for " + meeting.timezone);
    icalcomponent_add_component(c, vtimezone.release());  // the calendar owns it now
  }
  icalcomponent_add_component(c, build_vevent(meeting, details, rule ? &*rule : nullptr, meeting_zone).release());
  const ical_support::BufferPtr text(icalcomponent_as_ical_string_r(c));
  if (!text) return std::unexpected("libical could not serialize the calendar");
  return std::string(text.get());
}

}  // namespace chorus::conference
