// TalkerSelector: at most K talkers, the loudest, with a 6 dB hysteresis and id tie-breaks.
#include "mixer/talker_selector.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace chorus::mixer {
namespace talker_selector_test {

using Ids = std::vector<ParticipantId>;

Ids select(TalkerSelector& selector, const std::vector<TalkerCandidate>& speaking) {
  const auto talkers = selector.select(speaking);
  return Ids(talkers.begin(), talkers.end());
}

// Three established talkers: 1 at -20, 2 at -25, 3 at -30 dBov.
TalkerSelector established() {
  TalkerSelector selector;
  const auto first = selector.select(std::vector<TalkerCandidate>{{1, -20.0}, {2, -25.0}, {3, -30.0}});
  EXPECT_EQ(Ids(first.begin(), first.end()), (Ids{1, 2, 3}));
  return selector;
}

TEST(TalkerSelector, PicksTheKLoudestSortedById) {
  TalkerSelector selector;  // K = 3
  EXPECT_EQ(select(selector, {{7, -40.0}, {3, -10.0}, {9, -12.0}, {4, -35.0}, {5, -11.0}}), (Ids{3, 5, 9}));
}

TEST(TalkerSelector, FewerSpeakersThanKAreAllTalkers) {
  TalkerSelector selector;
  EXPECT_EQ(select(selector, {{2, -60.0}}), (Ids{2}));
  EXPECT_EQ(select(selector, {}), (Ids{}));
}

TEST(TalkerSelector, ASlightlyLouderNewcomerDoesNotDisplaceATalker) {
  TalkerSelector selector = established();
  // 4 is 5.9 dB louder than the weakest talker: not enough.
  EXPECT_EQ(select(selector, {{1, -20.0}, {2, -25.0}, {3, -30.0}, {4, -24.1}}), (Ids{1, 2, 3}));
  EXPECT_EQ(select(selector, {{4, -24.1}, {3, -30.0}, {2, -25.0}, {1, -20.0}}), (Ids{1, 2, 3}));
}

TEST(TalkerSelector, ANewcomer6DbLouderDisplacesTheWeakestTalker) {
  TalkerSelector selector = established();
  EXPECT_EQ(select(selector, {{1, -20.0}, {2, -25.0}, {3, -30.0}, {4, -24.0}}), (Ids{1, 2, 4}));
  // Now 4 is the talker: 3 coming back at its old level does not displace anyone.
  EXPECT_EQ(select(selector, {{1, -20.0}, {2, -25.0}, {3, -30.0}, {4, -24.0}}), (Ids{1, 2, 4}));
}

TEST(TalkerSelector, TwoLoudNewcomersDisplaceTheTwoWeakest) {
  TalkerSelector selector = established();
  // 4 and 5 beat 3 and 2 by the margin; 6 is only 5 dB louder than 1, which stays.
  EXPECT_EQ(select(selector, {{1, -20.0}, {2, -25.0}, {3, -30.0}, {4, -10.0}, {5, -12.0}, {6, -15.0}}), (Ids{1, 4, 5}));
}

TEST(TalkerSelector, ATalkerThatStopsSpeakingFreesItsSlot) {
  TalkerSelector selector = established();
  // 2 is no longer speaking (its detector's hangover ran out): 4 takes the slot though quieter.
  EXPECT_EQ(select(selector, {{1, -20.0}, {3, -30.0}, {4, -44.0}, {5, -50.0}}), (Ids{1, 3, 4}));
}

TEST(TalkerSelector, TiesGoToTheLowerIdWhateverTheOrder) {
  TalkerSelector a;
  TalkerSelector b;
  EXPECT_EQ(select(a, {{8, -20.0}, {5, -20.0}, {6, -20.0}, {7, -20.0}}), (Ids{5, 6, 7}));
  EXPECT_EQ(select(b, {{7, -20.0}, {6, -20.0}, {5, -20.0}, {8, -20.0}}), (Ids{5, 6, 7}));
}

TEST(TalkerSelector, KIsConfigurableAndClamped) {
  TalkerSelector one({.max_talkers = 1});
  EXPECT_EQ(select(one, {{1, -30.0}, {2, -20.0}}), (Ids{2}));
  TalkerSelector none({.max_talkers = 0});
  EXPECT_EQ(none.max_talkers(), 1U);
  TalkerSelector many({.max_talkers = 1000});
  EXPECT_EQ(many.max_talkers(), kMaxTalkers);
}

TEST(TalkerSelector, NeverMoreThanKUnderChurn) {
  TalkerSelector selector;
  std::vector<TalkerCandidate> speaking;
  for (ParticipantId round = 0; round < 50; ++round) {
    speaking.clear();
    for (ParticipantId id = 0; id < 20; ++id) {
      if ((id + round) % 3 != 0) speaking.push_back({id, -static_cast<double>((id * 7 + round * 13) % 60)});
    }
    const auto talkers = select(selector, speaking);
    EXPECT_LE(talkers.size(), 3U);
    EXPECT_TRUE(std::is_sorted(talkers.begin(), talkers.end()));
    for (const ParticipantId id : talkers) EXPECT_NE((id + round) % 3, 0U) << "a silent participant was chosen";
  }
}

}  // namespace talker_selector_test
}  // namespace chorus::mixer
