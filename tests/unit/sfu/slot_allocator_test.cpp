// RankedProducers and SlotAllocator: the last-N speakers in a receiver's slots, never itself, and
// as few slot moves as possible when people speak, join, leave or turn their camera on and off.
#include "sfu/slot_allocator.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <random>
#include <set>
#include <vector>

namespace chorus::sfu {
namespace slot_allocator_test {

using Ids = std::vector<ParticipantId>;
using Changed = std::vector<std::size_t>;
using Slots = SlotAllocator::Slots;
constexpr std::nullopt_t kDark = std::nullopt;

Ids ranked_of(const RankedProducers& producers) {
  return Ids(producers.ranked().begin(), producers.ranked().end());
}

RankedProducers rank(const Ids& order, const Ids& producers) {
  RankedProducers ranked;
  ranked.rebuild(order, producers);
  return ranked;
}

SlotAllocator allocator(ParticipantId receiver, std::size_t slots) {
  auto created = SlotAllocator::create(receiver, slots);
  EXPECT_TRUE(created);
  return std::move(*created);
}

Changed assign(SlotAllocator& slots, const RankedProducers& producers, std::optional<ParticipantId> pinned = {}) {
  const auto changed = slots.assign(producers, pinned);
  return Changed(changed.begin(), changed.end());
}

Ids range(ParticipantId first, ParticipantId last) {
  Ids ids;
  for (ParticipantId id = first; id <= last; ++id) ids.push_back(id);
  return ids;
}

// Moves `id` to the front of `order`, as the speaker detector does when it takes the floor.
void speaks(Ids& order, ParticipantId id) {
  const auto it = std::find(order.begin(), order.end(), id);
  ASSERT_NE(it, order.end());
  std::rotate(order.begin(), it, it + 1);
}

TEST(RankedProducers, KeepsTheSpeakerOrderOfThoseWithVideo) {
  const RankedProducers ranked = rank({4, 2, 7, 1, 9}, {1, 9, 4, 7});
  EXPECT_EQ(ranked_of(ranked), (Ids{4, 7, 1, 9}));
  EXPECT_EQ(ranked.rank_of(4), 0U);
  EXPECT_EQ(ranked.rank_of(9), 3U);
  EXPECT_FALSE(ranked.rank_of(2)) << "2 sends no video";
  EXPECT_FALSE(ranked.contains(5));
}

TEST(RankedProducers, ProducersTheOrderDoesNotKnowFollowById) {
  const RankedProducers ranked = rank({3, 1}, {8, 1, 6, 3});
  EXPECT_EQ(ranked_of(ranked), (Ids{3, 1, 6, 8}));
}

TEST(RankedProducers, IgnoresDuplicates) {
  const RankedProducers ranked = rank({3, 1, 3, 2}, {2, 2, 1, 3, 1});
  EXPECT_EQ(ranked_of(ranked), (Ids{3, 1, 2}));
}

TEST(RankedProducers, VersionMovesOnlyWhenTheRankingChanges) {
  RankedProducers ranked;
  ranked.rebuild(Ids{1, 2, 3}, Ids{1, 2});
  const auto version = ranked.version();
  ranked.rebuild(Ids{1, 3, 2}, Ids{2, 1});  // 3 sends no video: the ranking is the same
  EXPECT_EQ(ranked.version(), version);
  ranked.rebuild(Ids{2, 1, 3}, Ids{1, 2});
  EXPECT_GT(ranked.version(), version);
}

TEST(RankedProducers, DropsAndCountsProducersBeyondTheRoomLimit) {
  const Ids producers = range(1, kMaxRoomParticipants + 5);
  const RankedProducers ranked = rank({}, producers);
  EXPECT_EQ(ranked.ranked().size(), kMaxRoomParticipants);
  EXPECT_EQ(ranked.dropped(), 5U);
}

TEST(SlotAllocator, RejectsSlotCountsOutsideOneToTheLimit) {
  EXPECT_EQ(SlotAllocator::create(1, 0).error(), SlotError::kBadSlotCount);
  EXPECT_EQ(SlotAllocator::create(1, kMaxSlots + 1).error(), SlotError::kBadSlotCount);
  ASSERT_TRUE(SlotAllocator::create(1, kMaxSlots));
  SlotAllocator slots = allocator(1, 4);
  EXPECT_EQ(slots.resize(0).error(), SlotError::kBadSlotCount);
  EXPECT_EQ(slots.slots().size(), 4U);
  EXPECT_FALSE(to_string(SlotError::kBadSlotCount).empty());
}

TEST(SlotAllocator, AOneSlotReceiverShowsTheMostRecentDominantSpeakerOtherThanItself) {
  Ids order = {5, 3, 8};
  SlotAllocator five = allocator(5, 1);
  SlotAllocator three = allocator(3, 1);
  const Ids video = {3, 5, 8};
  EXPECT_EQ(assign(five, rank(order, video)), (Changed{0}));
  EXPECT_EQ(five.slots(), (Slots{3}));
  EXPECT_EQ(assign(three, rank(order, video)), (Changed{0}));
  EXPECT_EQ(three.slots(), (Slots{5}));
  speaks(order, 8);
  EXPECT_EQ(assign(five, rank(order, video)), (Changed{0}));
  EXPECT_EQ(five.slots(), (Slots{8}));
  speaks(order, 5);  // the receiver itself speaks: it keeps seeing the previous speaker
  EXPECT_EQ(assign(five, rank(order, video)), (Changed{}));
  EXPECT_EQ(five.slots(), (Slots{8}));
}

TEST(SlotAllocator, EmptySlotsAreReportedEmpty) {
  SlotAllocator slots = allocator(1, 9);
  EXPECT_EQ(assign(slots, rank({1, 2, 3}, {1, 2, 3})), (Changed{0, 1}));
  EXPECT_EQ(slots.slots(), (Slots{2, 3, kDark, kDark, kDark, kDark, kDark, kDark, kDark}));
  EXPECT_EQ(assign(slots, rank({1}, {1})), (Changed{0, 1})) << "alone: everything goes dark";
  EXPECT_EQ(slots.slots(), Slots(9, kDark));
}

TEST(SlotAllocator, NineSlotGridOfTwelvePeopleANewSpeakerReplacesExactlyTheLeastRecentVisibleOne) {
  // Twelve people with cameras, the receiver among them; nobody has spoken yet (join order).
  const Ids video = range(1, 12);
  Ids order = video;
  SlotAllocator slots = allocator(12, 9);
  EXPECT_EQ(assign(slots, rank(order, video)).size(), 9U);
  const Slots before = slots.slots();
  EXPECT_EQ(before, (Slots{1, 2, 3, 4, 5, 6, 7, 8, 9}));

  speaks(order, 11);  // 9 is now the least recent of the visible ones
  EXPECT_EQ(assign(slots, rank(order, video)), (Changed{8}));
  Slots expected = before;
  expected[8] = 11;
  EXPECT_EQ(slots.slots(), expected);

  speaks(order, 4);  // already visible: nothing moves
  EXPECT_EQ(assign(slots, rank(order, video)), (Changed{}));
  speaks(order, 10);  // replaces 8, the least recent visible one now
  EXPECT_EQ(assign(slots, rank(order, video)), (Changed{7}));
  expected[7] = 10;
  EXPECT_EQ(slots.slots(), expected);
  speaks(order, 12);  // the receiver speaks: it never sees itself, so nothing moves
  EXPECT_EQ(assign(slots, rank(order, video)), (Changed{}));
  EXPECT_EQ(slots.slots(), expected);
}

TEST(SlotAllocator, JoinsAndLeavesMoveOnlyTheSlotsConcerned) {
  Ids order = {1, 2, 3};
  Ids video = {1, 2, 3};
  SlotAllocator slots = allocator(1, 4);
  assign(slots, rank(order, video));
  EXPECT_EQ(slots.slots(), (Slots{2, 3, kDark, kDark}));
  order.push_back(4);  // joins
  video.push_back(4);
  EXPECT_EQ(assign(slots, rank(order, video)), (Changed{2}));
  EXPECT_EQ(slots.slots(), (Slots{2, 3, 4, kDark}));
  std::erase(order, 2);  // leaves
  std::erase(video, 2);
  EXPECT_EQ(assign(slots, rank(order, video)), (Changed{0}));
  EXPECT_EQ(slots.slots(), (Slots{kDark, 3, 4, kDark}));
  for (const ParticipantId id : {5, 6}) {  // two join: the lowest free slots, in rank order
    order.push_back(id);
    video.push_back(id);
  }
  EXPECT_EQ(assign(slots, rank(order, video)), (Changed{0, 3}));
  EXPECT_EQ(slots.slots(), (Slots{5, 3, 4, 6}));
  order.push_back(7);  // a fifth candidate for four slots: the least recent of them stays out
  video.push_back(7);
  EXPECT_EQ(assign(slots, rank(order, video)), (Changed{}));
  std::erase(order, 4);  // 4 leaves: 7 takes exactly its slot
  std::erase(video, 4);
  EXPECT_EQ(assign(slots, rank(order, video)), (Changed{2}));
  EXPECT_EQ(slots.slots(), (Slots{5, 3, 7, 6}));
}

TEST(SlotAllocator, ACameraTurnedOffFreesItsSlotAndTurnedOnComesBackByRank) {
  const Ids order = {1, 2, 3, 4, 5};
  SlotAllocator slots = allocator(1, 3);
  assign(slots, rank(order, {1, 2, 3, 4, 5}));
  EXPECT_EQ(slots.slots(), (Slots{2, 3, 4}));
  EXPECT_EQ(assign(slots, rank(order, {1, 2, 4, 5})), (Changed{1}));  // 3's camera off
  EXPECT_EQ(slots.slots(), (Slots{2, 5, 4}));
  EXPECT_EQ(assign(slots, rank(order, {1, 2, 3, 4, 5})), (Changed{1}));  // on again: ranks above 5
  EXPECT_EQ(slots.slots(), (Slots{2, 3, 4}));
}

TEST(SlotAllocator, APinnedProducerIsShownWhateverItsRank) {
  const Ids order = range(1, 10);
  const RankedProducers ranked = rank(order, order);
  SlotAllocator slots = allocator(1, 3);
  assign(slots, ranked);
  EXPECT_EQ(slots.slots(), (Slots{2, 3, 4}));
  EXPECT_EQ(assign(slots, ranked, 10), (Changed{2}));  // it displaces the least recent visible one
  EXPECT_EQ(slots.slots(), (Slots{2, 3, 10}));
  EXPECT_TRUE(slots.pinned_shown());
  EXPECT_EQ(assign(slots, ranked, 3), (Changed{2})) << "pinning a visible one moves nobody else";
  EXPECT_EQ(slots.slots(), (Slots{2, 3, 4}));
}

TEST(SlotAllocator, APinThatCannotBeShownIsIgnored) {
  const RankedProducers ranked = rank({1, 2, 3, 4}, {1, 2, 3});
  SlotAllocator slots = allocator(1, 2);
  assign(slots, ranked, 1);  // the receiver itself
  EXPECT_EQ(slots.slots(), (Slots{2, 3}));
  EXPECT_FALSE(slots.pinned_shown());
  assign(slots, ranked, 4);  // no camera
  EXPECT_EQ(slots.slots(), (Slots{2, 3}));
  EXPECT_FALSE(slots.pinned_shown());
}

TEST(SlotAllocator, ResizingKeepsTheOccupantsOfTheRemainingSlots) {
  Ids order = range(1, 12);
  const Ids video = order;
  SlotAllocator slots = allocator(1, 4);
  assign(slots, rank(order, video));
  ASSERT_TRUE(slots.resize(9));
  EXPECT_EQ(assign(slots, rank(order, video)), (Changed{4, 5, 6, 7, 8}));
  EXPECT_EQ(slots.slots(), (Slots{2, 3, 4, 5, 6, 7, 8, 9, 10}));
  speaks(order, 9);
  ASSERT_TRUE(slots.resize(2));  // 2 and 3 stay only if still among the top 2 (9 and 2)
  EXPECT_EQ(assign(slots, rank(order, video)), (Changed{1}));
  EXPECT_EQ(slots.slots(), (Slots{2, 9}));
}

// Property test: random speech, joins, leaves and cameras in a room of hundreds, receivers with
// 1, 4, 9 and 25 slots. After every change, for every receiver: the slots hold exactly its top K
// (never itself, no one twice), everyone still in the top K kept their slot, and the reported
// changes are exactly the slots whose occupant differs.
TEST(SlotAllocator, StaysStableAndCorrectUnderRandomChurnInALargeRoom) {
  std::mt19937 random(20261204);
  Ids order = range(1, 300);
  std::set<ParticipantId> video(order.begin(), order.end());
  ParticipantId next_id = 301;
  struct Receiver {
    SlotAllocator slots;
    Slots previous;
  };
  std::vector<Receiver> receivers;
  for (const auto& [id, k] : {std::pair{1U, 1U}, {2U, 4U}, {3U, 9U}, {4U, 25U}, {150U, 9U}}) {
    receivers.push_back({allocator(id, k), Slots(k)});
  }
  RankedProducers ranked;
  for (int round = 0; round < 2000; ++round) {
    const auto pick = [&] { return order[random() % order.size()]; };
    switch (random() % 6) {
      case 0:
      case 1:
      case 2: {
        const auto at = std::find(order.begin(), order.end(), pick());
        std::rotate(order.begin(), at, at + 1);
        break;
      }
      case 3:
        order.push_back(next_id);
        if (random() % 2 == 0) video.insert(next_id);
        ++next_id;
        break;
      case 4: {
        const ParticipantId leaver = pick();
        if (leaver > 4 && leaver != 150) {
          std::erase(order, leaver);
          video.erase(leaver);
        }
        break;
      }
      case 5: {
        const ParticipantId id = pick();
        if (!video.erase(id)) video.insert(id);
        break;
      }
    }
    ranked.rebuild(order, Ids(video.begin(), video.end()));
    for (Receiver& receiver : receivers) {
      const Changed changed = assign(receiver.slots, ranked);
      const Slots& now = receiver.slots.slots();
      const std::size_t k = now.size();
      Ids wanted;
      for (const ParticipantId id : ranked.ranked()) {
        if (wanted.size() == k) break;
        if (id != receiver.slots.receiver()) wanted.push_back(id);
      }
      std::multiset<ParticipantId> shown;
      for (const auto& occupant : now) {
        if (occupant) shown.insert(*occupant);
      }
      ASSERT_EQ(shown, std::multiset<ParticipantId>(wanted.begin(), wanted.end())) << "round " << round;
      Changed differs;
      for (std::size_t slot = 0; slot < k; ++slot) {
        const auto& was = receiver.previous[slot];
        if (was && std::find(wanted.begin(), wanted.end(), *was) != wanted.end()) {
          ASSERT_EQ(now[slot], was) << "round " << round << ": a participant still wanted moved";
        }
        if (now[slot] != was) differs.push_back(slot);
      }
      ASSERT_EQ(changed, differs) << "round " << round;
      ASSERT_LE(receiver.slots.last_examined(), k + 2);
      receiver.previous = now;
    }
  }
}

// Per change, a room costs one ranking (O(N log N)) and, per receiver, at most K + 2 entries of
// it — so N receivers cost O(N·K), not the O(N²) of every receiver scanning the room.
TEST(SlotAllocator, RoomCostGrowsLinearlyWithParticipants) {
  const auto examined_per_receiver = [](ParticipantId participants) {
    Ids order = range(1, participants);
    std::vector<SlotAllocator> receivers;
    for (const ParticipantId id : order) receivers.push_back(allocator(id, 9));
    RankedProducers ranked;
    std::size_t total = 0;
    for (int change = 0; change < 10; ++change) {
      speaks(order, order[order.size() / 2]);
      ranked.rebuild(order, order);
      for (SlotAllocator& receiver : receivers) {
        receiver.assign(ranked);
        total += receiver.last_examined();
      }
    }
    return static_cast<double>(total) / (10.0 * participants);
  };
  const double small = examined_per_receiver(20);
  const double large = examined_per_receiver(kMaxRoomParticipants);
  EXPECT_LE(small, 9.0 + 2.0);
  EXPECT_LE(large, 9.0 + 2.0);
  EXPECT_NEAR(large, small, 1.0) << "a receiver's work must not grow with the room";
}

}  // namespace slot_allocator_test
}  // namespace chorus::sfu
