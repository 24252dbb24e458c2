// ActiveSpeakerDetector: who holds the floor (coughs never do, sustained speech does within a
// second, silence never takes it away) and the order in which members last held it.
#include "sfu/active_speaker.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace chorus::sfu {
namespace active_speaker_test {

using Ids = std::vector<ParticipantId>;

// What a member's microphone picks up in one frame, as the audio MCU reports it.
enum class Sound {
  kBackground,     // room noise around -65 dBov, not voiced: what a quiet participant sends
  kSpeech,         // talk at -28..-32 dBov: 8 voiced frames, then a 2-frame pause at room noise
  kMurmur,         // quiet assent under someone else's talk: -45 dBov, voiced half the time
  kCough,          // loud, voiced: -10 dBov (a cough's frames; the script decides how many)
  kFan,            // a constant -50 dBov noise that a poor sender VAD flags as voice
  kSpeechOverFan,  // kSpeech whose pauses are the fan
  kNothing,        // no audio arrived (muted, DTX): the member is left out of the frame
};

constexpr std::uint8_t kBackgroundLevel = 65;
constexpr std::uint8_t kFanLevel = 50;

std::optional<SpeakerLevel> frame_of(ParticipantId id, Sound sound, int frame) {
  switch (sound) {
    case Sound::kBackground:
      return SpeakerLevel{.id = id, .level = kBackgroundLevel, .voiced = false};
    case Sound::kSpeech:
      if (frame % 10 >= 8) return SpeakerLevel{.id = id, .level = kBackgroundLevel, .voiced = false};
      return SpeakerLevel{.id = id, .level = static_cast<std::uint8_t>(28 + frame % 5), .voiced = true};
    case Sound::kMurmur:
      if (frame % 10 >= 5) return SpeakerLevel{.id = id, .level = kBackgroundLevel, .voiced = false};
      return SpeakerLevel{.id = id, .level = 45, .voiced = true};
    case Sound::kCough:
      return SpeakerLevel{.id = id, .level = 10, .voiced = true};
    case Sound::kFan:
      return SpeakerLevel{.id = id, .level = kFanLevel, .voiced = true};
    case Sound::kSpeechOverFan:
      if (frame % 10 >= 8) return SpeakerLevel{.id = id, .level = kFanLevel, .voiced = true};
      return SpeakerLevel{.id = id, .level = static_cast<std::uint8_t>(28 + frame % 5), .voiced = true};
    case Sound::kNothing:
      return std::nullopt;
  }
  return std::nullopt;
}

// A room of members fed frame by frame; whoever the script does not name sends background noise.
class Room {
 public:
  explicit Room(const Ids& members, const ActiveSpeakerConfig& config = {}) : detector_(config) {
    for (const ParticipantId id : members) join(id);
  }

  void join(ParticipantId id) {
    EXPECT_TRUE(detector_.add(id));
    members_.push_back(id);
  }
  void leave(ParticipantId id) {
    EXPECT_TRUE(detector_.remove(id));
    std::erase(members_, id);
  }

  // Runs `frames` frames; returns the frame count at which the dominant speaker first changed, or
  // nullopt when it did not.
  std::optional<int> run(int frames, const std::map<ParticipantId, Sound>& script = {}) {
    std::optional<int> switched_after;
    for (int i = 0; i < frames; ++i, ++frame_) {
      levels_.clear();
      for (const ParticipantId id : members_) {
        const auto it = script.find(id);
        const auto level = frame_of(id, it == script.end() ? Sound::kBackground : it->second, frame_);
        if (level) levels_.push_back(*level);
      }
      const auto before = detector_.dominant();
      detector_.update(levels_);
      if (!switched_after && detector_.dominant() != before) switched_after = i + 1;
    }
    return switched_after;
  }

  // Establishes `id` as the dominant speaker with three seconds of talk.
  void establish(ParticipantId id) {
    run(150, {{id, Sound::kSpeech}});
    ASSERT_EQ(detector_.dominant(), id);
  }

  ActiveSpeakerDetector& detector() { return detector_; }
  [[nodiscard]] Ids order() const { return Ids(detector_.order().begin(), detector_.order().end()); }

 private:
  ActiveSpeakerDetector detector_;
  Ids members_;
  std::vector<SpeakerLevel> levels_;
  int frame_ = 0;
};

constexpr int kOneSecond = 50;  // frames

TEST(ActiveSpeakerDetector, ASustainedSpeakerTakesTheFloorInUnderASecond) {
  Room room({1, 2, 3});
  const auto version = room.detector().version();
  const auto after = room.run(2 * kOneSecond, {{2, Sound::kSpeech}});
  ASSERT_TRUE(after);
  EXPECT_GE(*after, 25) << "took the floor in under half a second";
  EXPECT_LE(*after, kOneSecond);
  EXPECT_EQ(room.detector().dominant(), 2U);
  EXPECT_EQ(room.order(), (Ids{2, 1, 3}));
  EXPECT_GT(room.detector().version(), version);
}

TEST(ActiveSpeakerDetector, ACoughDoesNotTakeTheFloor) {
  Room room({1, 2, 3});
  room.establish(1);
  room.run(15, {{1, Sound::kBackground}, {2, Sound::kCough}});  // 300 ms
  EXPECT_FALSE(room.run(3 * kOneSecond));
  EXPECT_EQ(room.detector().dominant(), 1U);
  EXPECT_EQ(room.order(), (Ids{1, 2, 3}));
}

TEST(ActiveSpeakerDetector, AnMmHmDoesNotTakeTheFloor) {
  Room room({1, 2, 3});
  room.establish(1);
  room.run(5, {{1, Sound::kBackground}});
  room.run(22, {{1, Sound::kBackground}, {3, Sound::kSpeech}});  // a voiced 440 ms "mm-hm"
  EXPECT_FALSE(room.run(3 * kOneSecond));
  EXPECT_EQ(room.detector().dominant(), 1U);
}

TEST(ActiveSpeakerDetector, AFitOfCoughingIsTooSparseToTakeTheFloor) {
  Room room({1, 2});
  room.establish(1);
  // Five 120 ms coughs, 240 ms apart (one spurt, since the gaps are shorter than spurt_gap): 1.8 s
  // of "activity" of which a third is sound.
  for (int cough = 0; cough < 5; ++cough) {
    EXPECT_FALSE(room.run(6, {{1, Sound::kBackground}, {2, Sound::kCough}}));
    EXPECT_FALSE(room.run(12));
  }
  EXPECT_EQ(room.detector().dominant(), 1U);
}

TEST(ActiveSpeakerDetector, TheDominantSpeakerStaysDominantThroughSilence) {
  Room room({1, 2, 3});
  room.establish(1);
  const auto version = room.detector().version();
  EXPECT_FALSE(room.run(60 * kOneSecond));  // a minute of everyone listening
  EXPECT_FALSE(room.run(10 * kOneSecond, {{1, Sound::kNothing}, {2, Sound::kNothing}, {3, Sound::kNothing}}));
  EXPECT_EQ(room.detector().dominant(), 1U);
  EXPECT_EQ(room.detector().version(), version);
}

TEST(ActiveSpeakerDetector, ANewSpeakerTakesOverWithinASecondOnceTheDominantOneStops) {
  Room room({1, 2, 3});
  room.establish(1);
  const auto after = room.run(2 * kOneSecond, {{1, Sound::kBackground}, {3, Sound::kSpeech}});
  ASSERT_TRUE(after);
  EXPECT_LE(*after, kOneSecond);
  EXPECT_EQ(room.detector().dominant(), 3U);
  EXPECT_EQ(room.order(), (Ids{3, 1, 2}));
}

TEST(ActiveSpeakerDetector, TwoPeopleAlternatingEachTakeTheFloorOncePerTurn) {
  Room room({1, 2, 3, 4});
  room.establish(1);
  const auto switches = room.detector().stats().switches;
  for (int turn = 0; turn < 6; ++turn) {
    const ParticipantId speaker = turn % 2 == 0 ? 2 : 1;
    const auto after = room.run(3 * kOneSecond, {{speaker, Sound::kSpeech}});
    ASSERT_TRUE(after) << "turn " << turn;
    EXPECT_LE(*after, kOneSecond) << "turn " << turn;
    EXPECT_EQ(room.detector().dominant(), speaker);
  }
  EXPECT_EQ(room.detector().stats().switches - switches, 6U) << "exactly one switch per turn";
  EXPECT_EQ(room.order(), (Ids{1, 2, 3, 4}));
}

TEST(ActiveSpeakerDetector, TwoPeopleTalkingOverEachOtherLeaveTheFloorWhereItIs) {
  Room room({1, 2});
  room.establish(1);
  EXPECT_FALSE(room.run(10 * kOneSecond, {{1, Sound::kSpeech}, {2, Sound::kSpeech}}));
  EXPECT_EQ(room.detector().dominant(), 1U);
}

TEST(ActiveSpeakerDetector, AClearSpeakerTakesTheFloorFromAMurmuringOne) {
  Room room({1, 2});
  room.establish(1);
  const auto after = room.run(2 * kOneSecond, {{1, Sound::kMurmur}, {2, Sound::kSpeech}});
  ASSERT_TRUE(after);
  EXPECT_LE(*after, kOneSecond);
  EXPECT_EQ(room.detector().dominant(), 2U);
}

TEST(ActiveSpeakerDetector, AConstantNoiseFlaggedAsVoiceNeverTakesTheFloor) {
  Room room({1, 2});
  EXPECT_FALSE(room.run(30 * kOneSecond, {{2, Sound::kFan}}));
  ASSERT_TRUE(room.run(3 * kOneSecond, {{1, Sound::kSpeech}, {2, Sound::kFan}}));
  EXPECT_EQ(room.detector().dominant(), 1U);
  EXPECT_FALSE(room.run(30 * kOneSecond, {{1, Sound::kBackground}, {2, Sound::kFan}}));
  EXPECT_EQ(room.detector().dominant(), 1U);
}

TEST(ActiveSpeakerDetector, SpeechOverAConstantNoiseStillTakesTheFloor) {
  Room room({1, 2});
  room.run(20 * kOneSecond, {{2, Sound::kFan}});
  room.run(3 * kOneSecond, {{1, Sound::kSpeech}, {2, Sound::kFan}});
  ASSERT_EQ(room.detector().dominant(), 1U);
  // 2 talks over its own fan: 20 dB above it, so its frames are active against its floor.
  const auto after = room.run(2 * kOneSecond, {{2, Sound::kSpeechOverFan}});
  ASSERT_TRUE(after);
  EXPECT_LE(*after, kOneSecond);
  EXPECT_EQ(room.detector().dominant(), 2U);
}

TEST(ActiveSpeakerDetector, ASpeakerWhoseAudioStopsArrivingIsNotSpeaking) {
  Room room({1, 2});
  room.establish(1);
  // 2 speaks but every other second its packets are lost: never a sustained second of speech.
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(room.run(30, {{1, Sound::kBackground}, {2, Sound::kSpeech}}));
    EXPECT_FALSE(room.run(20, {{1, Sound::kBackground}, {2, Sound::kNothing}}));
  }
}

TEST(ActiveSpeakerDetector, MembersWhoNeverSpokeFollowInJoinOrder) {
  Room room({5, 3, 9, 1, 7});
  EXPECT_EQ(room.order(), (Ids{5, 3, 9, 1, 7}));
  room.establish(1);
  room.run(kOneSecond);
  room.establish(9);
  EXPECT_EQ(room.order(), (Ids{9, 1, 5, 3, 7}));
  room.join(4);
  EXPECT_EQ(room.order(), (Ids{9, 1, 5, 3, 7, 4}));
}

TEST(ActiveSpeakerDetector, ALeaverIsRemovedAndTheFloorIsFreeWhenItHeldIt) {
  Room room({1, 2, 3});
  room.establish(2);
  room.run(kOneSecond);
  room.establish(3);
  EXPECT_EQ(room.order(), (Ids{3, 2, 1}));
  auto version = room.detector().version();
  room.leave(2);
  EXPECT_EQ(room.order(), (Ids{3, 1}));
  EXPECT_EQ(room.detector().dominant(), 3U);
  EXPECT_GT(room.detector().version(), version);
  version = room.detector().version();
  room.leave(3);
  EXPECT_EQ(room.order(), (Ids{1}));
  EXPECT_FALSE(room.detector().dominant());
  EXPECT_GT(room.detector().version(), version);
  // The next sustained speaker takes the empty floor.
  room.join(4);
  ASSERT_TRUE(room.run(2 * kOneSecond, {{4, Sound::kSpeech}}));
  EXPECT_EQ(room.detector().dominant(), 4U);
  EXPECT_EQ(room.order(), (Ids{4, 1}));
}

TEST(ActiveSpeakerDetector, TiesGoToTheEarlierJoinerWhateverTheIdsOrInputOrder) {
  for (const bool reversed : {false, true}) {
    Room room({8, 3});  // 8 joined first
    ActiveSpeakerDetector& detector = room.detector();
    for (int frame = 0; frame < 2 * kOneSecond; ++frame) {
      const auto a = *frame_of(8, Sound::kSpeech, frame);
      const auto b = *frame_of(3, Sound::kSpeech, frame);
      const std::vector<SpeakerLevel> levels = reversed ? std::vector{b, a} : std::vector{a, b};
      detector.update(levels);
    }
    EXPECT_EQ(detector.dominant(), 8U) << "reversed " << reversed;
  }
}

TEST(ActiveSpeakerDetector, BadLevelsAreCountedAndChangeNothingElse) {
  ActiveSpeakerDetector detector;
  ASSERT_TRUE(detector.add(1));
  const std::vector<SpeakerLevel> levels = {
      {.id = 1, .level = 200, .voiced = true},  // not RFC 6464: read as silence
      {.id = 1, .level = 20, .voiced = true},   // second level for 1 in this frame: ignored
      {.id = 42, .level = 20, .voiced = true},  // not a member
  };
  for (int i = 0; i < 3 * kOneSecond; ++i) detector.update(levels);
  EXPECT_FALSE(detector.dominant()) << "the only level that counted was silence";
  EXPECT_EQ(detector.stats().invalid_levels, 150U);
  EXPECT_EQ(detector.stats().duplicate_levels, 150U);
  EXPECT_EQ(detector.stats().unknown_levels, 150U);
  EXPECT_EQ(detector.stats().frames, 150U);
  EXPECT_FALSE(detector.contains(42));
}

TEST(ActiveSpeakerDetector, MembershipErrorsAreReported) {
  ActiveSpeakerDetector detector;
  ASSERT_TRUE(detector.add(1));
  EXPECT_EQ(detector.add(1).error(), SpeakerError::kAlreadyMember);
  EXPECT_EQ(detector.remove(2).error(), SpeakerError::kNotMember);
  EXPECT_FALSE(to_string(SpeakerError::kRoomFull).empty());
  for (ParticipantId id = 2; id <= kMaxRoomParticipants; ++id) ASSERT_TRUE(detector.add(id));
  EXPECT_EQ(detector.add(5000).error(), SpeakerError::kRoomFull);
  EXPECT_EQ(detector.size(), kMaxRoomParticipants);
  EXPECT_EQ(detector.order().size(), kMaxRoomParticipants);
}

TEST(ActiveSpeakerDetector, HundredsOfMembersSwitchAsFastAsThree) {
  Ids members;
  for (ParticipantId id = 100; id < 400; ++id) members.push_back(id);
  Room room(members);
  room.establish(250);
  const auto after = room.run(2 * kOneSecond, {{250, Sound::kBackground}, {399, Sound::kSpeech}});
  ASSERT_TRUE(after);
  EXPECT_LE(*after, kOneSecond);
  EXPECT_EQ(room.detector().dominant(), 399U);
  const auto order = room.detector().order();
  ASSERT_EQ(order.size(), 300U);
  EXPECT_EQ(order[0], 399U);
  EXPECT_EQ(order[1], 250U);
  EXPECT_EQ(order[2], 100U);
  EXPECT_EQ(order[299], 398U);
}

TEST(ActiveSpeakerDetector, BadConfigurationFallsBackToSaneValues) {
  // A ratio below 1 would let the quieter of two talkers win and the floor flap every frame.
  Room room({1, 2}, {.min_spurt_density = -3.0, .takeover_ratio = 0.1});
  room.establish(1);
  EXPECT_FALSE(room.run(5 * kOneSecond, {{1, Sound::kSpeech}, {2, Sound::kSpeech}}));
}

}  // namespace active_speaker_test
}  // namespace chorus::sfu
