#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store_test_support.hpp"

namespace chorus::conference::test {
namespace store_rooms_test {

void expect_same_fields(const Room& actual, const Room& expected) {
  EXPECT_EQ(actual.id, expected.id);
  EXPECT_EQ(actual.dial_in_number, expected.dial_in_number);
  EXPECT_EQ(actual.name, expected.name);
  EXPECT_EQ(actual.mode, expected.mode);
  EXPECT_EQ(actual.max_participants, expected.max_participants);
  EXPECT_EQ(actual.encryption, expected.encryption);
  EXPECT_EQ(actual.pin, expected.pin);
  EXPECT_EQ(actual.moderator_pin, expected.moderator_pin);
  EXPECT_EQ(actual.default_layout, expected.default_layout);
  EXPECT_EQ(actual.sip_video, expected.sip_video);
  EXPECT_EQ(actual.locked, expected.locked);
  EXPECT_EQ(actual.wait_for_moderator, expected.wait_for_moderator);
  EXPECT_EQ(actual.created_at, expected.created_at);
}

std::vector<std::string> ids(const std::vector<Room>& rooms) {
  std::vector<std::string> out;
  for (const auto& room : rooms) out.push_back(room.id);
  return out;
}

class StoreRooms : public StoreTest {};

TEST_P(StoreRooms, CreateStoresEveryFieldAtVersionOne) {
  const Room room = sample_room("sales", "2000");
  auto created = store().create_room(room);
  ASSERT_TRUE(created.has_value()) << created.error().message;
  expect_same_fields(*created, room);
  EXPECT_EQ(created->version, 1u);

  auto got = store().get_room("sales");
  ASSERT_TRUE(got.has_value()) << got.error().message;
  expect_same_fields(*got, room);
  EXPECT_EQ(got->version, 1u);
}

TEST_P(StoreRooms, DefaultsRoundTrip) {
  ASSERT_TRUE(store().create_room(default_room()).has_value());
  ASSERT_TRUE(store().create_room(echo_room()).has_value());
  auto got = store().get_room("1000");
  ASSERT_TRUE(got.has_value());
  expect_same_fields(*got, default_room());
  got = store().get_room("echo");
  ASSERT_TRUE(got.has_value());
  expect_same_fields(*got, echo_room());
}

TEST_P(StoreRooms, GetUnknownIsNotFound) {
  auto got = store().get_room("nope");
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().kind, StoreErrorKind::kNotFound);
  EXPECT_FALSE(got.error().message.empty());
}

TEST_P(StoreRooms, AnyNumberOfRoomsMayHaveNoDialInNumber) {
  ASSERT_TRUE(store().create_room(sample_room("no-number-a", "")).has_value());
  auto second = store().create_room(sample_room("no-number-b", ""));
  ASSERT_TRUE(second.has_value()) << second.error().message;
  EXPECT_EQ(store().get_room("no-number-b")->dial_in_number, "");
  auto cleared = sample_room("numbered", "5555");
  ASSERT_TRUE(store().create_room(cleared).has_value());
  cleared.dial_in_number.clear();
  EXPECT_TRUE(store().update_room(cleared, 1).has_value()) << "clearing a number leaves the room without one";
}

TEST_P(StoreRooms, CreateConflictsWhenIdOrNumberIsTaken) {
  ASSERT_TRUE(store().create_room(sample_room("sales", "2000")).has_value());

  auto same_id = store().create_room(sample_room("sales", "2001"));
  ASSERT_FALSE(same_id.has_value());
  EXPECT_EQ(same_id.error().kind, StoreErrorKind::kConflict);

  auto same_number = store().create_room(sample_room("support", "2000"));
  ASSERT_FALSE(same_number.has_value());
  EXPECT_EQ(same_number.error().kind, StoreErrorKind::kConflict);
  EXPECT_NE(same_number.error().message.find("2000"), std::string::npos) << same_number.error().message;

  // Ids and numbers are both dial strings: neither may equal the other kind of another room.
  auto id_is_number = store().create_room(sample_room("2000", "2002"));
  ASSERT_FALSE(id_is_number.has_value());
  EXPECT_EQ(id_is_number.error().kind, StoreErrorKind::kConflict);
  auto number_is_id = store().create_room(sample_room("support", "sales"));
  ASSERT_FALSE(number_is_id.has_value());
  EXPECT_EQ(number_is_id.error().kind, StoreErrorKind::kConflict);

  auto list = store().list_rooms("", 10);
  ASSERT_TRUE(list.has_value());
  EXPECT_EQ(ids(*list), std::vector<std::string>{"sales"});
}

TEST_P(StoreRooms, ListPagesInIdOrder) {
  for (const char* id : {"d", "b", "e", "a", "c"}) {
    ASSERT_TRUE(store().create_room(sample_room(id, std::string("9") + id)).has_value());
  }
  auto first = store().list_rooms("", 2);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(ids(*first), (std::vector<std::string>{"a", "b"}));
  auto second = store().list_rooms("b", 2);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(ids(*second), (std::vector<std::string>{"c", "d"}));
  auto last = store().list_rooms("d", 2);
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(ids(*last), std::vector<std::string>{"e"});
  auto past_end = store().list_rooms("e", 2);
  ASSERT_TRUE(past_end.has_value());
  EXPECT_TRUE(past_end->empty());
  auto none = store().list_rooms("", 0);
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
  auto all = store().list_rooms("", static_cast<std::size_t>(-1));
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->size(), 5u);
}

// Ids compare as bytes, as SQLite's BINARY collation does, whatever the database's locale (the
// PostgreSQL test databases collate by ICU's en-US, where 'a' < 'B'): a cursor page continues
// exactly after the last id it returned.
TEST_P(StoreRooms, IdsSortAsBytes) {
  for (const char* id : {"b", "B", "_x", "a-1", "a1", "Z", "a"}) {
    ASSERT_TRUE(store().create_room(sample_room(id, "")).has_value()) << id;
  }
  const std::vector<std::string> bytewise{"B", "Z", "_x", "a", "a-1", "a1", "b"};
  auto all = store().list_rooms("", 100);
  ASSERT_TRUE(all.has_value()) << all.error().message;
  EXPECT_EQ(ids(*all), bytewise);
  std::vector<std::string> paged;
  for (std::string after;;) {
    auto page = store().list_rooms(after, 2);
    ASSERT_TRUE(page.has_value()) << page.error().message;
    for (const auto& room : *page) paged.push_back(room.id);
    if (page->size() < 2) break;
    after = page->back().id;
  }
  EXPECT_EQ(paged, bytewise);
}

// PostgreSQL's text holds UTF-8 without NUL bytes only; both backends refuse anything else the same
// way (kIo, nothing stored) rather than one storing it and the other not.
TEST_P(StoreRooms, TextThatIsNotUtf8OrHoldsNulIsRefused) {
  Room nul = sample_room("sales", "2000");
  nul.name = std::string("Sa\0les", 6);
  auto created = store().create_room(nul);
  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().kind, StoreErrorKind::kIo);
  EXPECT_NE(created.error().message.find("name"), std::string::npos) << created.error().message;
  Room latin1 = sample_room("sales", "2000");
  latin1.pin = "caf\xe9";
  EXPECT_EQ(error_kind(store().create_room(latin1)), StoreErrorKind::kIo);
  EXPECT_EQ(error_kind(store().get_room("sales")), StoreErrorKind::kNotFound);

  ASSERT_TRUE(store().create_room(sample_room("sales", "2000")).has_value());
  Room renamed = sample_room("sales", "2000");
  renamed.name = "Caf\xc3\xa9 \xe2\x82\xac";  // well-formed UTF-8 is fine
  ASSERT_TRUE(store().update_room(renamed, 1).has_value());
  EXPECT_EQ(store().get_room("sales")->name, renamed.name);
  renamed.default_layout = std::string("gr\0id", 5);
  EXPECT_EQ(error_kind(store().update_room(renamed, 2)), StoreErrorKind::kIo);
  EXPECT_EQ(store().get_room("sales")->version, 2u);
}

TEST_P(StoreRooms, UpdateReplacesFieldsAndBumpsVersion) {
  ASSERT_TRUE(store().create_room(sample_room("sales", "2000")).has_value());
  Room changed = default_room();
  changed.id = "sales";
  changed.dial_in_number = "2100";
  changed.name = "Sales floor";
  changed.created_at = sample_time(99min);  // not updatable
  auto version = store().update_room(changed, 1);
  ASSERT_TRUE(version.has_value()) << version.error().message;
  EXPECT_EQ(*version, 2u);

  auto got = store().get_room("sales");
  ASSERT_TRUE(got.has_value());
  changed.created_at = sample_time();
  expect_same_fields(*got, changed);
  EXPECT_EQ(got->version, 2u);

  version = store().update_room(changed, 2);
  ASSERT_TRUE(version.has_value()) << version.error().message;
  EXPECT_EQ(*version, 3u);
}

TEST_P(StoreRooms, SipVideoRoundTripsThroughUpdates) {
  Room room = sample_room("sales", "2000");
  room.mode = RoomMode::kSfu;  // the mode the setting is for
  room.sip_video = SipVideo::kSpeaker;
  ASSERT_TRUE(store().create_room(room).has_value());
  EXPECT_EQ(store().get_room("sales")->sip_video, SipVideo::kSpeaker);
  room.sip_video = SipVideo::kComposite;
  ASSERT_TRUE(store().update_room(room, 1).has_value());
  EXPECT_EQ(store().get_room("sales")->sip_video, SipVideo::kComposite);
  room.sip_video = SipVideo::kSpeaker;
  ASSERT_TRUE(store().update_room(room, 2).has_value());
  EXPECT_EQ(store().get_room("sales")->sip_video, SipVideo::kSpeaker);
}

// A value this build does not know (a newer build's, or a hand edit) must not silently read as the
// default: the room is refused, as an unknown mode is.
TEST_P(StoreRooms, UnknownStoredSipVideoIsAnError) {
  ASSERT_TRUE(store().create_room(sample_room("sales", "2000")).has_value());
  auto edited = backend().exec("UPDATE rooms SET sip_video = 'grid' WHERE id = 'sales'");
  ASSERT_TRUE(edited.has_value()) << edited.error();
  auto got = store().get_room("sales");
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().kind, StoreErrorKind::kIo);
  EXPECT_NE(got.error().message.find("sip_video"), std::string::npos) << got.error().message;
  EXPECT_EQ(error_kind(store().list_rooms("", 10)), StoreErrorKind::kIo);
}

TEST_P(StoreRooms, UpdateWithStaleVersionChangesNothing) {
  ASSERT_TRUE(store().create_room(sample_room("sales", "2000")).has_value());
  Room changed = sample_room("sales", "2000");
  changed.name = "renamed";
  ASSERT_TRUE(store().update_room(changed, 1).has_value());

  changed.name = "lost update";
  auto stale = store().update_room(changed, 1);
  ASSERT_FALSE(stale.has_value());
  EXPECT_EQ(stale.error().kind, StoreErrorKind::kVersionMismatch);
  auto got = store().get_room("sales");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->name, "renamed");
  EXPECT_EQ(got->version, 2u);
}

TEST_P(StoreRooms, UpdateUnknownIsNotFound) {
  auto missing = store().update_room(sample_room("ghost", "3000"), 1);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().kind, StoreErrorKind::kNotFound);
}

TEST_P(StoreRooms, UpdateToAnotherRoomsNumberConflicts) {
  ASSERT_TRUE(store().create_room(sample_room("sales", "2000")).has_value());
  ASSERT_TRUE(store().create_room(sample_room("support", "3000")).has_value());
  Room clash = sample_room("support", "2000");
  auto result = store().update_room(clash, 1);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, StoreErrorKind::kConflict);
  auto got = store().get_room("support");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->dial_in_number, "3000");
  EXPECT_EQ(got->version, 1u);

  // Keeping its own number, or taking its own id as number, is no clash.
  Room own = sample_room("support", "support");
  EXPECT_TRUE(store().update_room(own, 1).has_value());
}

TEST_P(StoreRooms, DeleteRemovesTheRoom) {
  ASSERT_TRUE(store().create_room(sample_room("sales", "2000")).has_value());
  ASSERT_TRUE(store().delete_room("sales").has_value());
  auto got = store().get_room("sales");
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().kind, StoreErrorKind::kNotFound);
  auto again = store().delete_room("sales");
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().kind, StoreErrorKind::kNotFound);
  // The id and number are free again.
  EXPECT_TRUE(store().create_room(sample_room("sales", "2000")).has_value());
}

TEST_P(StoreRooms, DeleteRoomDeletesItsMeetingsOnly) {
  ASSERT_TRUE(store().create_room(sample_room("sales", "2000")).has_value());
  ASSERT_TRUE(store().create_room(sample_room("support", "3000")).has_value());
  ASSERT_TRUE(store().create_meeting(sample_meeting("m1", "sales")).has_value());
  ASSERT_TRUE(store().create_meeting(sample_meeting("m2", "sales")).has_value());
  ASSERT_TRUE(store().create_meeting(sample_meeting("m3", "support")).has_value());

  ASSERT_TRUE(store().delete_room("sales").has_value());
  EXPECT_EQ(error_kind(store().get_meeting("m1")), StoreErrorKind::kNotFound);
  EXPECT_EQ(error_kind(store().get_meeting("m2")), StoreErrorKind::kNotFound);
  auto left = store().list_meetings("", 10, std::nullopt);
  ASSERT_TRUE(left.has_value());
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ(left->front().id, "m3");
}

TEST_P(StoreRooms, SurviveCloseAndReopen) {
  ASSERT_TRUE(store().create_room(sample_room("sales", "2000")).has_value());
  Room changed = sample_room("sales", "2000");
  changed.locked = false;
  ASSERT_TRUE(store().update_room(changed, 1).has_value());
  reopen();
  auto got = store().get_room("sales");
  ASSERT_TRUE(got.has_value()) << got.error().message;
  expect_same_fields(*got, changed);
  EXPECT_EQ(got->version, 2u);
}

INSTANTIATE_STORE_SUITE(StoreRooms);

}  // namespace store_rooms_test
}  // namespace chorus::conference::test
