// expand_occurrences and the join window: recurrences follow the meeting's wall clock across the
// 2026 DST changes (EU: 29 March, 25 October; US: 8 March, 1 November), exdates drop instances,
// and every expansion is bounded.
#include "conference/schedule/occurrences.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/conference/schedule/schedule_test_support.hpp"

namespace chorus::conference {
namespace occurrences_test {

using schedule_test::utc;
using schedule_test::weekly_berlin_meeting;
using std::chrono::hours;
using std::chrono::minutes;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::chrono::system_clock::time_point> starts(const std::vector<Occurrence>& occurrences) {
  std::vector<std::chrono::system_clock::time_point> result;
  for (const Occurrence& occurrence : occurrences) result.push_back(occurrence.start);
  return result;
}

TEST(ExpandOccurrences, WeeklyBerlinStaysAt0900LocalAcrossTheEuDstChange) {
  const Meeting meeting = weekly_berlin_meeting();
  const auto occurrences = expand_occurrences(meeting, utc(2026, 3, 1, 0), utc(2026, 4, 10, 0), 100);
  ASSERT_TRUE(occurrences) << occurrences.error();
  // CET (UTC+1) until Sunday 29 March, CEST (UTC+2) after.
  EXPECT_THAT(starts(*occurrences),
              ElementsAre(utc(2026, 3, 19, 8), utc(2026, 3, 26, 8), utc(2026, 4, 2, 7), utc(2026, 4, 9, 7)));
  for (const Occurrence& occurrence : *occurrences) EXPECT_EQ(occurrence.end - occurrence.start, hours{1});
}

TEST(ExpandOccurrences, WeeklyBerlinReturnsToCetInOctober) {
  const Meeting meeting = weekly_berlin_meeting();
  const auto occurrences = expand_occurrences(meeting, utc(2026, 10, 20, 0), utc(2026, 11, 1, 0), 100);
  ASSERT_TRUE(occurrences) << occurrences.error();
  EXPECT_THAT(starts(*occurrences), ElementsAre(utc(2026, 10, 22, 7), utc(2026, 10, 29, 8)));
}

TEST(ExpandOccurrences, NewYorkFollowsTheUsDstChange) {
  Meeting meeting = weekly_berlin_meeting();
  meeting.timezone = "America/New_York";
  meeting.rrule = "FREQ=WEEKLY;BYDAY=TU";
  meeting.start = utc(2026, 3, 3, 14);  // 09:00 EST (UTC-5)
  meeting.end = meeting.start + minutes{30};
  const auto occurrences = expand_occurrences(meeting, meeting.start, utc(2026, 3, 18, 0), 100);
  ASSERT_TRUE(occurrences) << occurrences.error();
  // EDT (UTC-4) from Sunday 8 March: still 09:00 in New York.
  EXPECT_THAT(starts(*occurrences), ElementsAre(utc(2026, 3, 3, 14), utc(2026, 3, 10, 13), utc(2026, 3, 17, 13)));
}

TEST(ExpandOccurrences, UtcMeetingKeepsItsUtcTime) {
  Meeting meeting = weekly_berlin_meeting();
  meeting.timezone = "UTC";
  const auto occurrences = expand_occurrences(meeting, utc(2026, 3, 1, 0), utc(2026, 4, 10, 0), 100);
  ASSERT_TRUE(occurrences) << occurrences.error();
  EXPECT_THAT(starts(*occurrences),
              ElementsAre(utc(2026, 3, 19, 8), utc(2026, 3, 26, 8), utc(2026, 4, 2, 8), utc(2026, 4, 9, 8)));
}

TEST(ExpandOccurrences, ExdatesAreRemoved) {
  Meeting meeting = weekly_berlin_meeting();
  meeting.exdates = {utc(2026, 3, 26, 8), utc(2026, 4, 2, 7), utc(2026, 4, 3, 7)};  // the last is no instance
  const auto occurrences = expand_occurrences(meeting, utc(2026, 3, 1, 0), utc(2026, 4, 10, 0), 100);
  ASSERT_TRUE(occurrences) << occurrences.error();
  EXPECT_THAT(starts(*occurrences), ElementsAre(utc(2026, 3, 19, 8), utc(2026, 4, 9, 7)));
}

TEST(ExpandOccurrences, OneOffMeetingHasOneOccurrence) {
  Meeting meeting = weekly_berlin_meeting();
  meeting.rrule.clear();
  const auto inside = expand_occurrences(meeting, utc(2026, 3, 19, 8, 30), utc(2026, 3, 20, 0), 10);
  ASSERT_TRUE(inside) << inside.error();
  EXPECT_THAT(*inside, ElementsAre(Occurrence{utc(2026, 3, 19, 8), utc(2026, 3, 19, 9)}));
  const auto after = expand_occurrences(meeting, utc(2026, 3, 19, 9), utc(2026, 3, 20, 0), 10);
  ASSERT_TRUE(after);
  EXPECT_THAT(*after, IsEmpty());
  meeting.exdates = {meeting.start};
  EXPECT_THAT(*expand_occurrences(meeting, utc(2026, 3, 1, 0), utc(2026, 4, 1, 0), 10), IsEmpty());
}

TEST(ExpandOccurrences, WindowIncludesAnOccurrenceInProgress) {
  const Meeting meeting = weekly_berlin_meeting();
  const auto occurrences = expand_occurrences(meeting, utc(2026, 3, 26, 8, 59), utc(2026, 3, 26, 9, 30), 10);
  ASSERT_TRUE(occurrences);
  EXPECT_THAT(starts(*occurrences), ElementsAre(utc(2026, 3, 26, 8)));
}

TEST(ExpandOccurrences, CountAndUntilEndTheSeries) {
  Meeting meeting = weekly_berlin_meeting();
  meeting.rrule = "FREQ=WEEKLY;BYDAY=TH;COUNT=3";
  auto occurrences = expand_occurrences(meeting, utc(2026, 1, 1, 0), utc(2027, 1, 1, 0), 100);
  ASSERT_TRUE(occurrences);
  EXPECT_THAT(starts(*occurrences), ElementsAre(utc(2026, 3, 19, 8), utc(2026, 3, 26, 8), utc(2026, 4, 2, 7)));
  // UNTIL is inclusive and compared in UTC: 2 April 09:00 Berlin is 07:00Z.
  meeting.rrule = "FREQ=WEEKLY;BYDAY=TH;UNTIL=20260402T070000Z";
  occurrences = expand_occurrences(meeting, utc(2026, 1, 1, 0), utc(2027, 1, 1, 0), 100);
  ASSERT_TRUE(occurrences);
  EXPECT_THAT(starts(*occurrences), ElementsAre(utc(2026, 3, 19, 8), utc(2026, 3, 26, 8), utc(2026, 4, 2, 7)));
}

TEST(ExpandOccurrences, LimitBoundsTheResult) {
  const Meeting meeting = weekly_berlin_meeting();
  const auto occurrences = expand_occurrences(meeting, utc(2026, 1, 1, 0), utc(2100, 1, 1, 0), 5);
  ASSERT_TRUE(occurrences);
  EXPECT_EQ(occurrences->size(), 5u);
  EXPECT_EQ(occurrences->back().start, utc(2026, 4, 16, 7));
  const auto most = expand_occurrences(meeting, utc(2026, 1, 1, 0), utc(2100, 1, 1, 0), kMaxOccurrences);
  ASSERT_TRUE(most);
  EXPECT_EQ(most->size(), kMaxOccurrences);
  EXPECT_FALSE(expand_occurrences(meeting, utc(2026, 1, 1, 0), utc(2027, 1, 1, 0), kMaxOccurrences + 1));
  EXPECT_FALSE(expand_occurrences(meeting, utc(2026, 1, 1, 0), utc(2027, 1, 1, 0), 0));
  EXPECT_FALSE(expand_occurrences(meeting, utc(2027, 1, 1, 0), utc(2026, 1, 1, 0), 10));
}

TEST(ExpandOccurrences, CountIsScannedFromTheStart) {
  Meeting meeting = weekly_berlin_meeting();
  meeting.rrule = "FREQ=HOURLY;COUNT=1000";
  meeting.end = meeting.start + minutes{30};
  auto occurrences = expand_occurrences(meeting, utc(2026, 1, 1, 0), utc(2030, 1, 1, 0), kMaxOccurrences);
  ASSERT_TRUE(occurrences);
  EXPECT_EQ(occurrences->size(), 1000u);
  occurrences = expand_occurrences(meeting, utc(2026, 6, 1, 0), utc(2030, 1, 1, 0), kMaxOccurrences);
  ASSERT_TRUE(occurrences);  // all 1000 are over by the end of April 2026
  EXPECT_THAT(*occurrences, IsEmpty());
}

TEST(ExpandOccurrences, ScanningStopsAfter10000Instances) {
  // Hourly in UTC with its first instances excluded (more exdates than validate_meeting allows,
  // to make the expansion skip): the scan gives up after kMaxScannedInstances instances.
  Meeting meeting = weekly_berlin_meeting();
  meeting.timezone = "UTC";
  meeting.rrule = "FREQ=HOURLY";
  meeting.end = meeting.start + minutes{30};
  for (std::size_t k = 0; k < kMaxScannedInstances - 3; ++k) meeting.exdates.push_back(meeting.start + hours{k});
  auto occurrences = expand_occurrences(meeting, meeting.start, utc(2100, 1, 1, 0), 10);
  ASSERT_TRUE(occurrences);
  EXPECT_THAT(starts(*occurrences),
              ElementsAre(meeting.start + hours{9997}, meeting.start + hours{9998}, meeting.start + hours{9999}));
  meeting.exdates.push_back(meeting.start + hours{kMaxScannedInstances - 3});
  meeting.exdates.push_back(meeting.start + hours{kMaxScannedInstances - 2});
  meeting.exdates.push_back(meeting.start + hours{kMaxScannedInstances - 1});
  occurrences = expand_occurrences(meeting, meeting.start, utc(2100, 1, 1, 0), 10);
  ASSERT_TRUE(occurrences);
  EXPECT_THAT(*occurrences, IsEmpty());  // instance 10,001 exists but is not looked at
}

TEST(ExpandOccurrences, FarWindowsMatchAFullExpansion) {
  // Rules without COUNT start scanning at the window; that must not shift the series.
  for (const char* rrule : {"FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH", "FREQ=WEEKLY;INTERVAL=3", "FREQ=MONTHLY;BYDAY=-1TH",
                            "FREQ=MONTHLY;INTERVAL=5;BYDAY=3TH", "FREQ=DAILY;INTERVAL=3", "FREQ=DAILY;BYHOUR=9,15",
                            "FREQ=DAILY;BYDAY=MO,TH", "FREQ=MONTHLY;BYMONTHDAY=19", "FREQ=MONTHLY;INTERVAL=7",
                            "FREQ=YEARLY;BYMONTH=3;BYDAY=3TH", "FREQ=YEARLY;INTERVAL=3", "FREQ=HOURLY",
                            "FREQ=HOURLY;INTERVAL=7", "FREQ=HOURLY;INTERVAL=5;BYDAY=TH,FR"}) {
    Meeting meeting = weekly_berlin_meeting();
    meeting.rrule = rrule;
    const auto all = expand_occurrences(meeting, meeting.start, utc(2100, 1, 1, 0), kMaxOccurrences);
    ASSERT_TRUE(all) << rrule;
    ASSERT_GT(all->size(), 12u) << rrule;
    const Occurrence& pick = (*all)[all->size() - 6];
    const auto from = pick.start + minutes{1};  // inside `pick`
    const auto to = (*all)[all->size() - 2].start + minutes{1};
    const auto window = expand_occurrences(meeting, from, to, kMaxOccurrences);
    ASSERT_TRUE(window) << rrule;
    EXPECT_EQ(starts(*window), starts(std::vector<Occurrence>(all->end() - 6, all->end() - 1))) << rrule;
  }
}

TEST(ExpandOccurrences, CancelledMeetingHasNone) {
  Meeting meeting = weekly_berlin_meeting();
  meeting.cancelled = true;
  const auto occurrences = expand_occurrences(meeting, utc(2026, 1, 1, 0), utc(2027, 1, 1, 0), 10);
  ASSERT_TRUE(occurrences);
  EXPECT_THAT(*occurrences, IsEmpty());
}

TEST(ExpandOccurrences, UnexpandableMeetingsAreErrors) {
  Meeting meeting = weekly_berlin_meeting();
  meeting.timezone = "Nowhere/Special";
  EXPECT_FALSE(expand_occurrences(meeting, utc(2026, 1, 1, 0), utc(2027, 1, 1, 0), 10));
  meeting = weekly_berlin_meeting();
  meeting.rrule = "FREQ=SOMETIMES";
  EXPECT_FALSE(expand_occurrences(meeting, utc(2026, 1, 1, 0), utc(2027, 1, 1, 0), 10));
  meeting.rrule = "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30";
  EXPECT_FALSE(expand_occurrences(meeting, utc(2026, 1, 1, 0), utc(2027, 1, 1, 0), 10));
}

TEST(CurrentOrNextWindow, OpensJoinWindowBeforeTheStartAndClosesAtTheEnd) {
  const Meeting meeting = weekly_berlin_meeting();  // join 10 minutes early
  const Occurrence second{utc(2026, 4, 2, 7), utc(2026, 4, 2, 8)};
  EXPECT_FALSE(current_or_next_window(meeting, utc(2026, 4, 2, 6, 49)));
  EXPECT_EQ(current_or_next_window(meeting, utc(2026, 4, 2, 6, 50)), second);
  EXPECT_EQ(current_or_next_window(meeting, utc(2026, 4, 2, 7, 30)), second);
  EXPECT_EQ(current_or_next_window(meeting, utc(2026, 4, 2, 8)), second);
  EXPECT_FALSE(current_or_next_window(meeting, utc(2026, 4, 2, 8) + std::chrono::seconds{1}));
  EXPECT_FALSE(current_or_next_window(meeting, utc(2026, 3, 30, 8)));  // a Monday
}

TEST(CurrentOrNextWindow, ClosedForExdatesAndCancelledMeetings) {
  Meeting meeting = weekly_berlin_meeting();
  meeting.exdates = {utc(2026, 4, 2, 7)};
  EXPECT_FALSE(current_or_next_window(meeting, utc(2026, 4, 2, 7, 30)));
  meeting = weekly_berlin_meeting();
  meeting.cancelled = true;
  EXPECT_FALSE(current_or_next_window(meeting, utc(2026, 4, 2, 7, 30)));
}

TEST(NextOccurrence, IsTheFirstToStartAfterNow) {
  const Meeting meeting = weekly_berlin_meeting();
  EXPECT_EQ(next_occurrence(meeting, utc(2026, 3, 1, 0)), (Occurrence{utc(2026, 3, 19, 8), utc(2026, 3, 19, 9)}));
  EXPECT_EQ(next_occurrence(meeting, utc(2026, 3, 26, 8, 30)), (Occurrence{utc(2026, 4, 2, 7), utc(2026, 4, 2, 8)}));
  Meeting once = meeting;
  once.rrule.clear();
  EXPECT_FALSE(next_occurrence(once, utc(2026, 3, 19, 8, 30)));
}

}  // namespace occurrences_test
}  // namespace chorus::conference
