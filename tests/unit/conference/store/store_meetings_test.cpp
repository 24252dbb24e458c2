#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store_test_support.hpp"

namespace chorus::conference::test {
namespace store_meetings_test {

void expect_same_fields(const MeetingRecord& actual, const MeetingRecord& expected) {
  EXPECT_EQ(actual.id, expected.id);
  EXPECT_EQ(actual.room_id, expected.room_id);
  EXPECT_EQ(actual.title, expected.title);
  EXPECT_EQ(actual.start, expected.start);
  EXPECT_EQ(actual.end, expected.end);
  EXPECT_EQ(actual.timezone, expected.timezone);
  EXPECT_EQ(actual.rrule, expected.rrule);
  EXPECT_EQ(actual.exdates, expected.exdates);
  EXPECT_EQ(actual.join_window_before, expected.join_window_before);
  EXPECT_EQ(actual.pin, expected.pin);
  EXPECT_EQ(actual.organizer, expected.organizer);
  EXPECT_EQ(actual.attendees, expected.attendees);
  EXPECT_EQ(actual.sequence, expected.sequence);
  EXPECT_EQ(actual.cancelled, expected.cancelled);
  EXPECT_EQ(actual.created_at, expected.created_at);
  EXPECT_EQ(actual.updated_at, expected.updated_at);
}

std::vector<std::string> ids(const std::vector<MeetingRecord>& meetings) {
  std::vector<std::string> out;
  for (const auto& meeting : meetings) out.push_back(meeting.id);
  return out;
}

class StoreMeetings : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (!ready()) return;
    ASSERT_TRUE(store().create_room(sample_room("sales", "2000")).has_value());
    ASSERT_TRUE(store().create_room(sample_room("support", "3000")).has_value());
  }
};

TEST_P(StoreMeetings, CreateStoresEveryFieldAtVersionOne) {
  const MeetingRecord meeting = sample_meeting("m1", "sales");
  auto created = store().create_meeting(meeting);
  ASSERT_TRUE(created.has_value()) << created.error().message;
  expect_same_fields(*created, meeting);
  EXPECT_EQ(created->version, 1u);
  auto got = store().get_meeting("m1");
  ASSERT_TRUE(got.has_value()) << got.error().message;
  expect_same_fields(*got, meeting);
  EXPECT_EQ(got->version, 1u);
}

TEST_P(StoreMeetings, EmptyListsAndNoPinRoundTrip) {
  MeetingRecord meeting = sample_meeting("m1", "sales");
  meeting.pin.reset();
  meeting.rrule.clear();
  meeting.exdates.clear();
  meeting.attendees.clear();
  meeting.cancelled = false;
  ASSERT_TRUE(store().create_meeting(meeting).has_value());
  auto got = store().get_meeting("m1");
  ASSERT_TRUE(got.has_value());
  expect_same_fields(*got, meeting);

  // An empty PIN is a PIN of its own (no digits asked), not "no override".
  meeting.id = "m2";
  meeting.pin = "";
  ASSERT_TRUE(store().create_meeting(meeting).has_value());
  got = store().get_meeting("m2");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->pin, std::optional<std::string>(""));
}

TEST_P(StoreMeetings, CreateInUnknownRoomIsNotFound) {
  auto created = store().create_meeting(sample_meeting("m1", "ghost"));
  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().kind, StoreErrorKind::kNotFound);
  EXPECT_NE(created.error().message.find("ghost"), std::string::npos) << created.error().message;
  EXPECT_EQ(error_kind(store().get_meeting("m1")), StoreErrorKind::kNotFound);
}

TEST_P(StoreMeetings, CreateWithTakenIdConflicts) {
  ASSERT_TRUE(store().create_meeting(sample_meeting("m1", "sales")).has_value());
  auto again = store().create_meeting(sample_meeting("m1", "support"));
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().kind, StoreErrorKind::kConflict);
  auto got = store().get_meeting("m1");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->room_id, "sales");
}

TEST_P(StoreMeetings, ListPagesAndFiltersByRoom) {
  for (const char* id : {"m5", "m1", "m4", "m2", "m3"}) {
    const std::string room = (id == std::string("m2") || id == std::string("m4")) ? "support" : "sales";
    ASSERT_TRUE(store().create_meeting(sample_meeting(id, room)).has_value());
  }
  auto page = store().list_meetings("", 3, std::nullopt);
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(ids(*page), (std::vector<std::string>{"m1", "m2", "m3"}));
  page = store().list_meetings("m3", 3, std::nullopt);
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(ids(*page), (std::vector<std::string>{"m4", "m5"}));

  page = store().list_meetings("", 1, "sales");
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(ids(*page), std::vector<std::string>{"m1"});
  page = store().list_meetings("m1", 5, "sales");
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(ids(*page), (std::vector<std::string>{"m3", "m5"}));
  page = store().list_meetings("", 5, "ghost");
  ASSERT_TRUE(page.has_value());
  EXPECT_TRUE(page->empty());

  auto all = store().list_meetings_for_room("support");
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(ids(*all), (std::vector<std::string>{"m2", "m4"}));
  all = store().list_meetings_for_room("ghost");
  ASSERT_TRUE(all.has_value());
  EXPECT_TRUE(all->empty());
}

TEST_P(StoreMeetings, UpdateReplacesFieldsAndBumpsVersion) {
  ASSERT_TRUE(store().create_meeting(sample_meeting("m1", "sales")).has_value());
  MeetingRecord changed = sample_meeting("m1", "support");
  changed.title = "Moved";
  changed.exdates = {sample_time(21 * 24h)};
  changed.pin.reset();
  changed.sequence = 4;
  changed.updated_at = sample_time(5min);
  changed.created_at = sample_time(500min);  // not updatable
  auto version = store().update_meeting(changed, 1);
  ASSERT_TRUE(version.has_value()) << version.error().message;
  EXPECT_EQ(*version, 2u);
  auto got = store().get_meeting("m1");
  ASSERT_TRUE(got.has_value());
  changed.created_at = sample_time(-60min);
  expect_same_fields(*got, changed);
  EXPECT_EQ(got->version, 2u);
}

TEST_P(StoreMeetings, UpdateFailuresChangeNothing) {
  ASSERT_TRUE(store().create_meeting(sample_meeting("m1", "sales")).has_value());
  MeetingRecord changed = sample_meeting("m1", "sales");
  changed.title = "stale";
  EXPECT_EQ(error_kind(store().update_meeting(changed, 7)), StoreErrorKind::kVersionMismatch);
  changed.room_id = "ghost";
  EXPECT_EQ(error_kind(store().update_meeting(changed, 1)), StoreErrorKind::kNotFound);
  auto got = store().get_meeting("m1");
  ASSERT_TRUE(got.has_value());
  expect_same_fields(*got, sample_meeting("m1", "sales"));
  EXPECT_EQ(got->version, 1u);

  EXPECT_EQ(error_kind(store().update_meeting(sample_meeting("m9", "sales"), 1)), StoreErrorKind::kNotFound);
}

TEST_P(StoreMeetings, DeleteRemovesTheMeeting) {
  ASSERT_TRUE(store().create_meeting(sample_meeting("m1", "sales")).has_value());
  ASSERT_TRUE(store().delete_meeting("m1").has_value());
  EXPECT_EQ(error_kind(store().get_meeting("m1")), StoreErrorKind::kNotFound);
  EXPECT_EQ(error_kind(store().delete_meeting("m1")), StoreErrorKind::kNotFound);
  EXPECT_TRUE(store().get_room("sales").has_value());
}

TEST_P(StoreMeetings, TextThatIsNotUtf8IsAnErrorNotAThrow) {
  MeetingRecord meeting = sample_meeting("m1", "sales");
  meeting.attendees = {std::string("bad\xff\xfe@example.com")};
  auto created = store().create_meeting(meeting);
  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().kind, StoreErrorKind::kIo);
  EXPECT_EQ(error_kind(store().get_meeting("m1")), StoreErrorKind::kNotFound);
}

TEST_P(StoreMeetings, SurviveCloseAndReopen) {
  const MeetingRecord meeting = sample_meeting("m1", "sales");
  ASSERT_TRUE(store().create_meeting(meeting).has_value());
  reopen();
  auto got = store().get_meeting("m1");
  ASSERT_TRUE(got.has_value()) << got.error().message;
  expect_same_fields(*got, meeting);
}

INSTANTIATE_STORE_SUITE(StoreMeetings);

}  // namespace store_meetings_test
}  // namespace chorus::conference::test
