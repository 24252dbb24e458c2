// to_ics: the invitation parsed back by libical's own parser — UID, SEQUENCE, METHOD, RRULE,
// DTSTART with a TZID whose VTIMEZONE resolves to the meeting's instant, EXDATE, escaping and
// folding, and the cancel form (RFC 5546 §3.2.5).
#include "conference/schedule/ics.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libical/ical.h>

#include <memory>

#include "tests/unit/conference/schedule/schedule_test_support.hpp"

namespace chorus::conference {
namespace ics_test {

using schedule_test::utc;
using schedule_test::weekly_berlin_meeting;
using ::testing::HasSubstr;
using ::testing::Not;

struct ComponentDeleter {
  void operator()(icalcomponent* component) const { icalcomponent_free(component); }
};
using ComponentPtr = std::unique_ptr<icalcomponent, ComponentDeleter>;

IcsDetails details() {
  IcsDetails details;
  details.sip_uri = "sip:1000@conf.example.org";
  details.dial_in_number = "+49 30 1234567";
  details.pin = "4321";
  details.dtstamp = utc(2026, 3, 10, 12);
  return details;
}

ComponentPtr parse(const std::string& text) {
  return ComponentPtr(icalparser_parse_string(text.c_str()));
}

icalcomponent* event_of(icalcomponent* calendar) {
  return icalcomponent_get_first_component(calendar, ICAL_VEVENT_COMPONENT);
}

std::string tzid_of(icalproperty* property) {
  icalparameter* tzid = icalproperty_get_first_parameter(property, ICAL_TZID_PARAMETER);
  return tzid == nullptr ? "" : icalparameter_get_tzid(tzid);
}

// The instant a DTSTART/EXDATE names, resolved through the calendar's own VTIMEZONE.
std::chrono::system_clock::time_point instant_of(icalcomponent* calendar, icaltimetype time, const std::string& tzid) {
  icaltimezone* zone =
      tzid.empty() ? icaltimezone_get_utc_timezone() : icalcomponent_get_timezone(calendar, tzid.c_str());
  EXPECT_NE(zone, nullptr) << "no VTIMEZONE for " << tzid;
  return std::chrono::system_clock::time_point{std::chrono::seconds{icaltime_as_timet_with_zone(time, zone)}};
}

TEST(ToIcs, RequestCarriesTheEventAndItsZone) {
  Meeting meeting = weekly_berlin_meeting();
  const auto text = to_ics(meeting, details());
  ASSERT_TRUE(text) << text.error();
  const ComponentPtr calendar = parse(*text);
  ASSERT_TRUE(calendar);
  EXPECT_EQ(icalcomponent_isa(calendar.get()), ICAL_VCALENDAR_COMPONENT);
  EXPECT_EQ(icalcomponent_get_method(calendar.get()), ICAL_METHOD_REQUEST);
  EXPECT_STREQ(icalproperty_get_version(icalcomponent_get_first_property(calendar.get(), ICAL_VERSION_PROPERTY)),
               "2.0");
  EXPECT_STREQ(icalproperty_get_prodid(icalcomponent_get_first_property(calendar.get(), ICAL_PRODID_PROPERTY)),
               "-//Chorus//Chorus Conference Server//EN");
  icalcomponent* vtimezone = icalcomponent_get_first_component(calendar.get(), ICAL_VTIMEZONE_COMPONENT);
  ASSERT_NE(vtimezone, nullptr);
  EXPECT_STREQ(icalproperty_get_tzid(icalcomponent_get_first_property(vtimezone, ICAL_TZID_PROPERTY)), "Europe/Berlin");

  icalcomponent* event = event_of(calendar.get());
  ASSERT_NE(event, nullptr);
  EXPECT_STREQ(icalcomponent_get_uid(event), "mtg-1@chorus");
  EXPECT_EQ(icalcomponent_get_sequence(event), 2);
  EXPECT_EQ(icalcomponent_get_status(event), ICAL_STATUS_CONFIRMED);
  EXPECT_STREQ(icalcomponent_get_summary(event), "Weekly sync");
  EXPECT_STREQ(icalcomponent_get_location(event), "sip:1000@conf.example.org");
  EXPECT_STREQ(icalcomponent_get_description(event),
               "Join by SIP: sip:1000@conf.example.org\nDial in: +49 30 1234567\nPIN: 4321\n");
  EXPECT_EQ(instant_of(calendar.get(), icalcomponent_get_dtstamp(event), ""), utc(2026, 3, 10, 12));

  icalproperty* dtstart = icalcomponent_get_first_property(event, ICAL_DTSTART_PROPERTY);
  ASSERT_EQ(tzid_of(dtstart), "Europe/Berlin");
  EXPECT_STREQ(icaltime_as_ical_string(icalproperty_get_dtstart(dtstart)), "20260319T090000");
  EXPECT_EQ(instant_of(calendar.get(), icalproperty_get_dtstart(dtstart), "Europe/Berlin"), meeting.start);
  icalproperty* dtend = icalcomponent_get_first_property(event, ICAL_DTEND_PROPERTY);
  EXPECT_EQ(instant_of(calendar.get(), icalproperty_get_dtend(dtend), tzid_of(dtend)), meeting.end);

  icalproperty* rrule = icalcomponent_get_first_property(event, ICAL_RRULE_PROPERTY);
  ASSERT_NE(rrule, nullptr);
  icalrecurrencetype rule = icalproperty_get_rrule(rrule);
  EXPECT_EQ(rule.freq, ICAL_WEEKLY_RECURRENCE);
  EXPECT_EQ(icalrecurrencetype_day_day_of_week(rule.by_day[0]), ICAL_THURSDAY_WEEKDAY);
}

TEST(ToIcs, OrganizerAndAttendeesAreAskedToReply) {
  const auto text = to_ics(weekly_berlin_meeting(), details());
  ASSERT_TRUE(text);
  const ComponentPtr calendar = parse(*text);
  icalcomponent* event = event_of(calendar.get());
  EXPECT_STREQ(icalproperty_get_organizer(icalcomponent_get_first_property(event, ICAL_ORGANIZER_PROPERTY)),
               "mailto:alice@example.org");
  std::vector<std::string> attendees;
  for (icalproperty* p = icalcomponent_get_first_property(event, ICAL_ATTENDEE_PROPERTY); p != nullptr;
       p = icalcomponent_get_next_property(event, ICAL_ATTENDEE_PROPERTY)) {
    attendees.push_back(icalproperty_get_attendee(p));
    icalparameter* rsvp = icalproperty_get_first_parameter(p, ICAL_RSVP_PARAMETER);
    ASSERT_NE(rsvp, nullptr);
    EXPECT_EQ(icalparameter_get_rsvp(rsvp), ICAL_RSVP_TRUE);
  }
  EXPECT_THAT(attendees, ::testing::ElementsAre("mailto:bob@example.org", "mailto:carol@example.net"));
}

TEST(ToIcs, ExdatesAreInTheMeetingsZone) {
  Meeting meeting = weekly_berlin_meeting();
  meeting.exdates = {utc(2026, 4, 2, 7), utc(2026, 12, 24, 8)};
  const auto text = to_ics(meeting, details());
  ASSERT_TRUE(text);
  const ComponentPtr calendar = parse(*text);
  icalcomponent* event = event_of(calendar.get());
  std::vector<std::chrono::system_clock::time_point> exdates;
  std::vector<std::string> locals;
  for (icalproperty* p = icalcomponent_get_first_property(event, ICAL_EXDATE_PROPERTY); p != nullptr;
       p = icalcomponent_get_next_property(event, ICAL_EXDATE_PROPERTY)) {
    EXPECT_EQ(tzid_of(p), "Europe/Berlin");
    locals.push_back(icaltime_as_ical_string(icalproperty_get_exdate(p)));
    exdates.push_back(instant_of(calendar.get(), icalproperty_get_exdate(p), tzid_of(p)));
  }
  EXPECT_THAT(locals, ::testing::ElementsAre("20260402T090000", "20261224T090000"));
  EXPECT_EQ(exdates, meeting.exdates);
}

TEST(ToIcs, CancelFormSaysCancelled) {
  Meeting meeting = weekly_berlin_meeting();
  meeting.cancelled = true;
  meeting.sequence = 3;
  EXPECT_EQ(ics_method(meeting), "CANCEL");
  EXPECT_EQ(ics_content_type(meeting), "text/calendar; charset=utf-8; method=CANCEL");
  const auto text = to_ics(meeting, details());
  ASSERT_TRUE(text);
  const ComponentPtr calendar = parse(*text);
  EXPECT_EQ(icalcomponent_get_method(calendar.get()), ICAL_METHOD_CANCEL);
  icalcomponent* event = event_of(calendar.get());
  EXPECT_STREQ(icalcomponent_get_uid(event), "mtg-1@chorus");
  EXPECT_EQ(icalcomponent_get_sequence(event), 3);
  EXPECT_EQ(icalcomponent_get_status(event), ICAL_STATUS_CANCELLED);
  EXPECT_THAT(*text, Not(HasSubstr("RSVP")));
}

TEST(ToIcs, UtcMeetingHasNoVtimezone) {
  Meeting meeting = weekly_berlin_meeting();
  meeting.timezone = "UTC";
  const auto text = to_ics(meeting, details());
  ASSERT_TRUE(text);
  EXPECT_THAT(*text, HasSubstr("\r\nDTSTART:20260319T080000Z\r\n"));
  EXPECT_THAT(*text, Not(HasSubstr("VTIMEZONE")));
}

TEST(ToIcs, NewYorkZoneResolvesAcrossDst) {
  Meeting meeting = weekly_berlin_meeting();
  meeting.timezone = "America/New_York";
  meeting.rrule = "FREQ=WEEKLY;BYDAY=TU;UNTIL=20261231T235959Z";
  meeting.start = utc(2026, 3, 3, 14);
  meeting.end = utc(2026, 3, 3, 15);
  meeting.exdates = {utc(2026, 3, 10, 13)};  // EDT by then
  const auto text = to_ics(meeting, details());
  ASSERT_TRUE(text);
  EXPECT_THAT(*text, HasSubstr("DTSTART;TZID=America/New_York:20260303T090000\r\n"));
  EXPECT_THAT(*text, HasSubstr("EXDATE;TZID=America/New_York:20260310T090000\r\n"));
  EXPECT_THAT(*text, HasSubstr("UNTIL=20261231T235959Z"));
  const ComponentPtr calendar = parse(*text);
  icalproperty* exdate = icalcomponent_get_first_property(event_of(calendar.get()), ICAL_EXDATE_PROPERTY);
  EXPECT_EQ(instant_of(calendar.get(), icalproperty_get_exdate(exdate), tzid_of(exdate)), utc(2026, 3, 10, 13));
}

TEST(ToIcs, TextIsEscapedAndFolded) {
  Meeting meeting = weekly_berlin_meeting();
  meeting.title = "Budget; Q3, \"final\" review \xe2\x80\x94 " + std::string(100, 'x');
  const auto text = to_ics(meeting, details());
  ASSERT_TRUE(text);
  EXPECT_THAT(*text, HasSubstr("SUMMARY:Budget\\; Q3\\, \"final\" review"));
  // RFC 5545 §3.1: CRLF line ends, lines of at most 75 octets.
  std::size_t line_start = 0;
  for (std::size_t at = text->find('\n'); at != std::string::npos; at = text->find('\n', line_start)) {
    ASSERT_GT(at, 0u);
    EXPECT_EQ((*text)[at - 1], '\r');
    EXPECT_LE(at - 1 - line_start, 75u) << text->substr(line_start, at - line_start);
    line_start = at + 1;
  }
  const ComponentPtr calendar = parse(*text);
  EXPECT_EQ(icalcomponent_get_summary(event_of(calendar.get())), meeting.title);
}

TEST(ToIcs, UnknownZoneIsAnError) {
  Meeting meeting = weekly_berlin_meeting();
  meeting.timezone = "Nowhere/Special";
  EXPECT_FALSE(to_ics(meeting, details()));
  meeting = weekly_berlin_meeting();
  meeting.rrule = "FREQ=NEVER";
  EXPECT_FALSE(to_ics(meeting, details()));
}

TEST(ToIcs, BrowserJoinLinkIsInTheDescriptionAndTheUrl) {
  IcsDetails with_link = details();
  with_link.join_url = "http://conf.example.org:8080/?room=1000";
  const auto text = to_ics(weekly_berlin_meeting(), with_link);
  ASSERT_TRUE(text) << text.error();
  const ComponentPtr calendar = parse(*text);
  ASSERT_TRUE(calendar);
  icalcomponent* event = event_of(calendar.get());
  ASSERT_NE(event, nullptr);
  EXPECT_STREQ(icalcomponent_get_description(event),
               "Join by SIP: sip:1000@conf.example.org\nJoin from a browser: http://conf.example.org:8080/?room=1000\n"
               "Dial in: +49 30 1234567\nPIN: 4321\n");
  // RFC 5545 §3.8.4.6: URL, a URI value, once.
  icalproperty* url = icalcomponent_get_first_property(event, ICAL_URL_PROPERTY);
  ASSERT_NE(url, nullptr);
  EXPECT_STREQ(icalproperty_get_url(url), "http://conf.example.org:8080/?room=1000");
  EXPECT_EQ(icalcomponent_count_properties(event, ICAL_URL_PROPERTY), 1);
  EXPECT_THAT(*text, HasSubstr("\r\nURL:http://conf.example.org:8080/?room=1000\r\n"));

  // Without a link there is no URL property and no browser line.
  const auto plain = to_ics(weekly_berlin_meeting(), details());
  ASSERT_TRUE(plain);
  EXPECT_THAT(*plain, Not(HasSubstr("URL:")));
  EXPECT_THAT(*plain, Not(HasSubstr("browser")));
}

}  // namespace ics_test
}  // namespace chorus::conference
