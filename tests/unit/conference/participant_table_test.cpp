// ParticipantTable: participants by call, by id and by room (issue 13: a join asks who else is in its
// room without scanning every call), kept in step through add, replace and extract.
#include "conference/participant.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace chorus::conference {
namespace participant_table_test {

Participant participant(std::uint64_t id, sip::CallHandle call, std::string room) {
  Participant p;
  p.id = id;
  p.call = call;
  p.room_id = std::move(room);
  return p;
}

std::vector<std::uint64_t> ids(const std::vector<const Participant*>& participants) {
  std::vector<std::uint64_t> out;
  for (const Participant* p : participants) out.push_back(p->id);
  return out;
}

TEST(ParticipantTableTest, RoomsListTheirParticipantsInJoinedOrder) {
  ParticipantTable table;
  table.add(participant(7, 70, "1000"));
  table.add(participant(3, 30, "1000"));
  table.add(participant(5, 50, "echo"));
  table.add(participant(9, 90, "1000"));
  const ParticipantTable& view = table;
  EXPECT_EQ(ids(view.in_room("1000")), (std::vector<std::uint64_t>{3, 7, 9}));
  EXPECT_EQ(ids(view.in_room("echo")), (std::vector<std::uint64_t>{5}));
  EXPECT_TRUE(view.in_room("none").empty());
  EXPECT_EQ(table.count_in("1000"), 3u);
  EXPECT_EQ(table.count_in("none"), 0u);
  EXPECT_EQ(table.active_rooms(), (std::vector<std::string>{"1000", "echo"}));
  EXPECT_EQ(table.count(), 4u);
  ASSERT_NE(table.find_by_id(9), nullptr);
  EXPECT_EQ(table.find_by_id(9)->call, 90u);
  EXPECT_EQ(table.find_by_id(4), nullptr);
}

TEST(ParticipantTableTest, ExtractTakesAParticipantOutOfEveryIndex) {
  ParticipantTable table;
  table.add(participant(1, 10, "1000"));
  table.add(participant(2, 20, "echo"));
  auto gone = table.extract(20);
  ASSERT_TRUE(gone.has_value());
  EXPECT_EQ(gone->id, 2u);
  EXPECT_EQ(table.find_by_id(2), nullptr);
  EXPECT_EQ(table.find(20), nullptr);
  EXPECT_EQ(table.count_in("echo"), 0u);
  EXPECT_EQ(table.active_rooms(), (std::vector<std::string>{"1000"}))
      << "a room without participants is no live conference";
  EXPECT_FALSE(table.extract(20).has_value());
  // The others' entries still point at live participants.
  ASSERT_NE(table.find_by_id(1), nullptr);
  EXPECT_EQ(table.find_by_id(1)->room_id, "1000");
}

TEST(ParticipantTableTest, ANewParticipantForTheSameCallReplacesTheOldOneEverywhere) {
  ParticipantTable table;
  table.add(participant(1, 10, "1000"));
  table.add(participant(2, 10, "echo"));
  EXPECT_EQ(table.count(), 1u);
  EXPECT_EQ(table.find_by_id(1), nullptr);
  ASSERT_NE(table.find_by_id(2), nullptr);
  EXPECT_EQ(table.count_in("1000"), 0u);
  EXPECT_EQ(table.count_in("echo"), 1u);
}

TEST(ParticipantTableTest, AnyInRoomStopsAtTheFirstMatch) {
  ParticipantTable table;
  for (std::uint64_t id = 1; id <= 5; ++id) table.add(participant(id, id * 10, "1000"));
  int asked = 0;
  EXPECT_TRUE(table.any_in_room("1000", [&](const Participant& p) {
    ++asked;
    return p.id == 2;
  }));
  EXPECT_EQ(asked, 2);
  EXPECT_FALSE(table.any_in_room("1000", [](const Participant& p) { return p.id == 6; }));
  EXPECT_FALSE(table.any_in_room("none", [](const Participant&) { return true; }));
}

}  // namespace participant_table_test
}  // namespace chorus::conference
