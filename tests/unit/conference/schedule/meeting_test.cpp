// validate_meeting: one test per field rule, each naming the field the REST layer reports.
#include "conference/schedule/meeting.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/conference/schedule/schedule_test_support.hpp"

namespace chorus::conference {
namespace meeting_test {

using schedule_test::utc;
using schedule_test::weekly_berlin_meeting;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::IsEmpty;

// The fields validate_meeting complains about, in order.
std::vector<std::string> error_fields(const Meeting& meeting) {
  std::vector<std::string> fields;
  for (const FieldError& error : validate_meeting(meeting)) fields.push_back(error.field);
  return fields;
}

TEST(ValidateMeeting, AcceptsAWeeklyMeeting) {
  EXPECT_THAT(validate_meeting(weekly_berlin_meeting()), IsEmpty());
}

TEST(ValidateMeeting, AcceptsAOneOffUtcMeetingWithoutPeople) {
  Meeting meeting = weekly_berlin_meeting();
  meeting.rrule.clear();
  meeting.timezone = "UTC";
  meeting.organizer.clear();
  meeting.attendees.clear();
  EXPECT_THAT(validate_meeting(meeting), IsEmpty());
}

TEST(ValidateMeeting, RequiresARoom) {
  Meeting meeting = weekly_berlin_meeting();
  meeting.room_id.clear();
  EXPECT_THAT(error_fields(meeting), ElementsAre("room_id"));
}

TEST(ValidateMeeting, TitleIsOneTo200Characters) {
  Meeting meeting = weekly_berlin_meeting();
  meeting.title.clear();
  EXPECT_THAT(error_fields(meeting), ElementsAre("title"));
  meeting.title = std::string(201, 'x');
  EXPECT_THAT(error_fields(meeting), ElementsAre("title"));
  // 200 characters of two bytes each: counted as characters, not bytes.
  meeting.title.clear();
  for (int i = 0; i < 200; ++i) meeting.title += "\xc3\xa4";  // ä
  EXPECT_THAT(validate_meeting(meeting), IsEmpty());
}

TEST(ValidateMeeting, TitleIsUtf8WithoutControlCharacters) {
  Meeting meeting = weekly_berlin_meeting();
  meeting.title = "Sync\r\nBCC: everyone";
  EXPECT_THAT(error_fields(meeting), ElementsAre("title"));
  meeting.title = "caf\xc3";  // truncated sequence
  EXPECT_THAT(error_fields(meeting), ElementsAre("title"));
  meeting.title = "\xc0\xaf";  // overlong '/'
  EXPECT_THAT(error_fields(meeting), ElementsAre("title"));
}

TEST(ValidateMeeting, EndIsAfterStart) {
  Meeting meeting = weekly_berlin_meeting();
  meeting.end = meeting.start;
  EXPECT_THAT(error_fields(meeting), ElementsAre("end"));
}

TEST(ValidateMeeting, LastsAtMost24Hours) {
  Meeting meeting = weekly_berlin_meeting();
  meeting.end = meeting.start + std::chrono::hours{24};
  EXPECT_THAT(validate_meeting(meeting), IsEmpty());
  meeting.end += std::chrono::seconds{1};
  EXPECT_THAT(validate_meeting(meeting), ElementsAre(FieldError{"end", "a meeting lasts at most 24 hours"}));
}

TEST(ValidateMeeting, TimezoneIsAKnownIanaZone) {
  Meeting meeting = weekly_berlin_meeting();
  for (const char* zone : {"Mars/Olympus_Mons", "", "Europe/Berlin\n", "CEST+2"}) {
    meeting.timezone = zone;
    EXPECT_THAT(error_fields(meeting), ElementsAre("timezone")) << zone;
  }
  EXPECT_TRUE(is_known_timezone("America/New_York"));
  EXPECT_TRUE(is_known_timezone("Asia/Kolkata"));
  EXPECT_TRUE(is_known_timezone("UTC"));
  EXPECT_FALSE(is_known_timezone("Europe/Atlantis"));
}

TEST(ValidateMeeting, RruleParses) {
  Meeting meeting = weekly_berlin_meeting();
  for (const char* rrule : {"FREQ=FORTNIGHTLY", "RRULE:FREQ=WEEKLY", "FREQ=WEEKLY;BYDAY=XX", "BYDAY=TH",
                            "FREQ=WEEKLY;BYDAY=TH\r\nATTENDEE:x"}) {
    meeting.rrule = rrule;
    EXPECT_THAT(error_fields(meeting), ElementsAre("rrule")) << rrule;
  }
  meeting.rrule = "FREQ=WEEKLY;BYDAY=TH;" + std::string(600, 'X');
  EXPECT_THAT(error_fields(meeting), ElementsAre("rrule"));
}

TEST(ValidateMeeting, RruleCountIsAtMost1000) {
  Meeting meeting = weekly_berlin_meeting();
  meeting.rrule = "FREQ=WEEKLY;BYDAY=TH;COUNT=1000";
  EXPECT_THAT(validate_meeting(meeting), IsEmpty());
  meeting.rrule = "FREQ=WEEKLY;BYDAY=TH;COUNT=1001";
  EXPECT_THAT(validate_meeting(meeting), ElementsAre(FieldError{"rrule", "rrule COUNT must be at most 1000"}));
}

TEST(ValidateMeeting, RruleUntilIsAUtcTime) {
  Meeting meeting = weekly_berlin_meeting();
  meeting.rrule = "FREQ=WEEKLY;BYDAY=TH;UNTIL=20261231T230000Z";
  EXPECT_THAT(validate_meeting(meeting), IsEmpty());
  meeting.rrule = "FREQ=WEEKLY;BYDAY=TH;UNTIL=20261231";  // a DATE with a DATE-TIME start
  EXPECT_THAT(error_fields(meeting), ElementsAre("rrule"));
  meeting.rrule = "FREQ=WEEKLY;BYDAY=TH;UNTIL=20261231T230000";  // floating: RFC 5545 §3.3.10 forbids
  EXPECT_THAT(error_fields(meeting), ElementsAre("rrule"));
}

TEST(ValidateMeeting, RruleRepeatsAtMostHourly) {
  Meeting meeting = weekly_berlin_meeting();
  meeting.rrule = "FREQ=MINUTELY;INTERVAL=5";
  EXPECT_THAT(error_fields(meeting), ElementsAre("rrule"));
}

TEST(ValidateMeeting, RruleMustYieldOccurrences) {
  Meeting meeting = weekly_berlin_meeting();
  meeting.rrule = "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30";
  EXPECT_THAT(error_fields(meeting), ElementsAre("rrule"));
}

TEST(ValidateMeeting, StartIsTheRulesFirstOccurrence) {
  Meeting meeting = weekly_berlin_meeting();
  meeting.rrule = "FREQ=WEEKLY;BYDAY=MO";  // 19 March 2026 is a Thursday
  EXPECT_THAT(error_fields(meeting), ElementsAre("start"));
}

TEST(ValidateMeeting, JoinWindowIs0To120Minutes) {
  Meeting meeting = weekly_berlin_meeting();
  meeting.join_window_before = std::chrono::minutes{0};
  EXPECT_THAT(validate_meeting(meeting), IsEmpty());
  meeting.join_window_before = std::chrono::minutes{120};
  EXPECT_THAT(validate_meeting(meeting), IsEmpty());
  meeting.join_window_before = std::chrono::minutes{121};
  EXPECT_THAT(error_fields(meeting), ElementsAre("join_window_before"));
  meeting.join_window_before = std::chrono::minutes{-1};
  EXPECT_THAT(error_fields(meeting), ElementsAre("join_window_before"));
}

TEST(ValidateMeeting, PinIs4To12Digits) {
  Meeting meeting = weekly_berlin_meeting();
  for (const char* pin : {"1234", "123456789012"}) {
    meeting.pin = pin;
    EXPECT_THAT(validate_meeting(meeting), IsEmpty()) << pin;
  }
  for (const char* pin : {"123", "1234567890123", "12a4", "", "12 34"}) {
    meeting.pin = pin;
    EXPECT_THAT(error_fields(meeting), ElementsAre("pin")) << pin;
  }
}

TEST(ValidateMeeting, OrganizerAndAttendeesAreEmails) {
  Meeting meeting = weekly_berlin_meeting();
  meeting.organizer = "alice";
  meeting.attendees = {"bob@example.org", "not an email", "carol@localhost", "Bob@Example.org"};
  EXPECT_THAT(validate_meeting(meeting), ElementsAre(FieldError{"organizer", "organizer must be an email address"},
                                                     FieldError{"attendees[1]", "attendee must be an email address"},
                                                     FieldError{"attendees[2]", "attendee must be an email address"},
                                                     FieldError{"attendees[3]", "attendee is listed twice"}));
}

TEST(ValidateMeeting, AtMost200Attendees) {
  Meeting meeting = weekly_berlin_meeting();
  meeting.attendees.clear();
  for (int i = 0; i < 200; ++i) meeting.attendees.push_back("user" + std::to_string(i) + "@example.org");
  EXPECT_THAT(validate_meeting(meeting), IsEmpty());
  meeting.attendees.push_back("one.more@example.org");
  EXPECT_THAT(error_fields(meeting), ElementsAre("attendees"));
}

TEST(ValidateMeeting, AtMost1000Exdates) {
  Meeting meeting = weekly_berlin_meeting();
  meeting.exdates.assign(1001, utc(2026, 4, 2, 7));
  EXPECT_THAT(error_fields(meeting), ElementsAre("exdates"));
}

TEST(ValidateMeeting, ReportsEveryBadField) {
  Meeting meeting = weekly_berlin_meeting();
  meeting.title.clear();
  meeting.timezone = "Nowhere/Special";
  meeting.pin = "12";
  EXPECT_THAT(validate_meeting(meeting),
              ElementsAre(Field(&FieldError::field, "title"), Field(&FieldError::field, "timezone"),
                          Field(&FieldError::field, "pin")));
}

TEST(LooksLikeEmail, AcceptsOrdinaryAddressesOnly) {
  EXPECT_TRUE(looks_like_email("first.last+tag@sub.example.co.uk"));
  for (const char* address : {"", "@example.org", "a@", "a@b", "a@.org", "a@example.", "a b@example.org",
                              "a@exa..mple.org", "<a@example.org>", "a@b@example.org"}) {
    EXPECT_FALSE(looks_like_email(address)) << address;
  }
  EXPECT_FALSE(looks_like_email(std::string(65, 'a') + "@example.org"));
}

}  // namespace meeting_test
}  // namespace chorus::conference
