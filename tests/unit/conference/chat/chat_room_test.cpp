// The chat model (conference/chat/chat_room.hpp): bounded histories, the text rule, token buckets
// and the refusal counters, with time passed in.
#include <gtest/gtest.h>

#include <string>

#include "conference/chat/chat_room.hpp"

namespace chorus::conference {
namespace chat_room_test {

using namespace std::chrono_literals;
const auto kStart = std::chrono::steady_clock::time_point{} + 1h;
const auto kWall = std::chrono::system_clock::time_point{} + std::chrono::hours(24 * 20000);

ChatSender ann() {
  return ChatSender{7, "Ann", "sip:ann@example.com"};
}

TEST(ChatRooms, HistoryKeepsTheNewestMessagesWithinItsBound) {
  ChatRooms rooms(ChatLimits{.history = 3});
  for (int i = 1; i <= 5; ++i) rooms.record("1000", ann(), "m" + std::to_string(i), ChatOrigin::kSip, kWall);
  const auto history = rooms.history("1000");
  ASSERT_EQ(history.size(), 3U);
  EXPECT_EQ(history[0].text, "m3");
  EXPECT_EQ(history[2].text, "m5") << "newest last";
  EXPECT_EQ(history[2].seq, 5U);
  EXPECT_EQ(rooms.counters().accepted.load(), 5U);
}

TEST(ChatRooms, SinceGivesOnlyLaterMessagesAndSeqNeverRepeatsAcrossRooms) {
  ChatRooms rooms;
  rooms.record("1000", ann(), "a", ChatOrigin::kSip, kWall);
  rooms.record("2000", ann(), "b", ChatOrigin::kApi, kWall);
  rooms.record("1000", ann(), "c", ChatOrigin::kSip, kWall);
  const auto later = rooms.history("1000", 1);
  ASSERT_EQ(later.size(), 1U);
  EXPECT_EQ(later[0].text, "c");
  EXPECT_EQ(later[0].seq, 3U);
  EXPECT_EQ(rooms.history("2000")[0].seq, 2U);
  EXPECT_TRUE(rooms.history("1000", 3).empty());
  EXPECT_TRUE(rooms.history("3000").empty());
}

TEST(ChatRooms, AConferenceThatEndsTakesItsHistoryWithIt) {
  ChatRooms rooms;
  rooms.record("1000", ann(), "a", ChatOrigin::kSip, kWall);
  rooms.end_conference("1000");
  EXPECT_TRUE(rooms.history("1000").empty());
  EXPECT_EQ(rooms.conferences(), 0U);
  rooms.record("1000", ann(), "b", ChatOrigin::kSip, kWall);
  EXPECT_EQ(rooms.history("1000")[0].seq, 2U) << "a new conference does not reuse sequence numbers";
}

TEST(ChatRooms, ASenderHasItsBurstThenItsRate) {
  ChatRooms rooms(ChatLimits{.rate_per_second = 5, .burst = 10});
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(rooms.admit(7, kStart).has_value()) << i;
  const auto wait = rooms.admit(7, kStart);
  ASSERT_TRUE(wait.has_value());
  EXPECT_EQ(*wait, 200ms) << "one token every 1/5 s";
  EXPECT_FALSE(rooms.admit(8, kStart).has_value()) << "buckets are per sender";
  EXPECT_TRUE(rooms.admit(7, kStart + 199ms).has_value());
  EXPECT_FALSE(rooms.admit(7, kStart + 400ms).has_value());
  rooms.forget(7);
  EXPECT_EQ(rooms.buckets(), 1U);
  EXPECT_FALSE(rooms.admit(7, kStart + 400ms).has_value()) << "a new bucket is full";
}

TEST(ChatText, SizeUtf8AndControlsAreChecked) {
  const ChatLimits limits{.max_text_bytes = 4096};
  EXPECT_FALSE(check_text(std::string(4096, 'a'), limits).has_value());
  EXPECT_EQ(check_text(std::string(4097, 'a'), limits), ChatRefusal::kTooLarge);
  EXPECT_EQ(check_text("", limits), ChatRefusal::kBadText);
  EXPECT_EQ(check_text("caf\xC3", limits), ChatRefusal::kBadText) << "truncated sequence";
  EXPECT_EQ(check_text("\xC0\xAF", limits), ChatRefusal::kBadText) << "overlong";
  EXPECT_EQ(check_text(std::string("a\0b", 3), limits), ChatRefusal::kBadText);
  EXPECT_EQ(check_text("bell\x07", limits), ChatRefusal::kBadText);
  EXPECT_FALSE(check_text("two\r\nlines\tand caf\xC3\xA9 \xF0\x9F\x8E\xB5", limits).has_value());
}

TEST(ChatRooms, EveryRefusalIsCountedByKind) {
  ChatRooms rooms;
  rooms.refused(ChatRefusal::kNotParticipant, "1000", "sip:eve@example.com", kStart);
  rooms.refused(ChatRefusal::kNotParticipant, "1000", "sip:eve@example.com", kStart + 10ms);  // log suppressed
  rooms.refused(ChatRefusal::kTooLarge, "1000", "sip:ann@example.com", kStart);
  const auto& refused = rooms.counters().refused;
  EXPECT_EQ(refused[static_cast<std::size_t>(ChatRefusal::kNotParticipant)].load(), 2U);
  EXPECT_EQ(refused[static_cast<std::size_t>(ChatRefusal::kTooLarge)].load(), 1U);
  EXPECT_EQ(refused[static_cast<std::size_t>(ChatRefusal::kRateLimited)].load(), 0U);
  bool named = false;
  for (const auto& published : rooms.counters().published())
    named |= published.metric == "chorus_chat_refused_not_participant_total" && published.value->load() == 2U;
  EXPECT_TRUE(named);
}

}  // namespace chat_room_test
}  // namespace chorus::conference
