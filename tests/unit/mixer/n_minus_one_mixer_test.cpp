// NMinusOneMixer: N−1 exactness, who hears what, K cap and hysteresis through real frames, mute,
// gain, the limiter, encode groups, and counted drops.
#include "mixer/n_minus_one_mixer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <vector>

#include "tests/unit/mixer/mixer_test_support.hpp"

namespace chorus::mixer {
namespace n_minus_one_mixer_test {

using testing::constant_frame;
using testing::silence;
using testing::sine_frame;
using namespace std::chrono_literals;

const EncodeFormat kPcmu20{"PCMU", 20ms};
const EncodeFormat kPcmu30{"PCMU", 30ms};
const EncodeFormat kOpus20{"opus", 20ms};
const EncodeFormat kG722{"G722", 20ms};

// A room with fixed frames per participant, replayed every round.
class Room {
 public:
  explicit Room(const MixerConfig& config = {}) : mixer_(config) {}

  void add(ParticipantId id, AudioFrame frame, ParticipantSettings settings = {.format = kPcmu20}) {
    ASSERT_TRUE(mixer_.add_participant(id, settings));
    frames_[id] = frame;
  }
  void set_frame(ParticipantId id, AudioFrame frame) { frames_[id] = frame; }

  const MixResult& round() {
    inputs_.clear();
    for (const auto& [id, frame] : frames_) inputs_.push_back(MixInput{.id = id, .frame = frame});
    return mixer_.mix(inputs_);
  }
  const MixResult& rounds(int n) {
    for (int i = 1; i < n; ++i) round();
    return round();
  }

  // The PCM `listener` receives in `result`.
  FrameView heard_by(const MixResult& result, ParticipantId listener) const {
    for (const ListenerAssignment& a : result.listeners) {
      if (a.listener == listener) return result.outputs[a.output].pcm;
    }
    ADD_FAILURE() << "no assignment for " << listener;
    return {};
  }
  std::size_t output_of(const MixResult& result, ParticipantId listener) const {
    for (const ListenerAssignment& a : result.listeners) {
      if (a.listener == listener) return a.output;
    }
    ADD_FAILURE() << "no assignment for " << listener;
    return 0;
  }
  const AudioFrame& frame(ParticipantId id) { return frames_[id]; }

  NMinusOneMixer mixer_;

 private:
  std::map<ParticipantId, AudioFrame> frames_;
  std::vector<MixInput> inputs_;
};

std::vector<ParticipantId> ids(std::span<const ParticipantId> talkers) {
  return {talkers.begin(), talkers.end()};
}

// Expects `heard` to be exactly the sum of the listed participants' frames.
void expect_sum_of(Room& room, FrameView heard, std::vector<ParticipantId> sources) {
  ASSERT_EQ(heard.size(), kFrameSamples);
  for (std::size_t i = 0; i < kFrameSamples; ++i) {
    std::int32_t expected = 0;
    for (const ParticipantId id : sources) expected += room.frame(id)[i];
    ASSERT_EQ(heard[i], expected) << "sample " << i;
  }
}

TEST(NMinusOneMixer, EachTalkerHearsExactlyTheOtherTalkers) {
  Room room;
  room.add(1, sine_frame(300.0, 6000.0));
  room.add(2, sine_frame(500.0, 5000.0));
  room.add(3, sine_frame(700.0, 7000.0));
  room.add(4, constant_frame(3));  // -81 dBov: present but not speaking
  room.add(5, silence());
  const MixResult& result = room.rounds(3);
  ASSERT_EQ(ids(result.talkers), (std::vector<ParticipantId>{1, 2, 3}));
  expect_sum_of(room, room.heard_by(result, 1), {2, 3});
  expect_sum_of(room, room.heard_by(result, 2), {1, 3});
  expect_sum_of(room, room.heard_by(result, 3), {1, 2});
  expect_sum_of(room, room.heard_by(result, 4), {1, 2, 3});
  expect_sum_of(room, room.heard_by(result, 5), {1, 2, 3});
}

TEST(NMinusOneMixer, ConstantFramesAreExactToo) {
  Room room;
  room.add(10, constant_frame(1000));
  room.add(20, constant_frame(-2000));
  room.add(30, constant_frame(4000));
  const MixResult& result = room.rounds(2);
  ASSERT_EQ(result.talkers.size(), 3U);
  EXPECT_EQ(room.heard_by(result, 10)[0], 2000);
  EXPECT_EQ(room.heard_by(result, 20)[0], 5000);
  EXPECT_EQ(room.heard_by(result, 30)[0], -1000);
  EXPECT_EQ(result.outputs[0].pcm[0], 3000);  // everyone's mix, though no one listens to it
}

TEST(NMinusOneMixer, AnAnnouncerIsHeardByEveryoneWhileKTalkersHoldTheSlots) {
  Room room;
  room.add(1, constant_frame(4000));
  room.add(2, constant_frame(3000));
  room.add(3, constant_frame(2000));
  room.add(4, silence());
  room.add(99, constant_frame(100),
           {.format = kPcmu20, .listening = false, .always_mixed = true});  // quieter than every talker
  const MixResult& result = room.rounds(5);
  ASSERT_EQ(ids(result.talkers), (std::vector<ParticipantId>{1, 2, 3}));  // it takes no talker slot
  expect_sum_of(room, room.heard_by(result, 1), {2, 3, 99});
  expect_sum_of(room, room.heard_by(result, 3), {1, 2, 99});
  expect_sum_of(room, room.heard_by(result, 4), {1, 2, 3, 99});
  EXPECT_EQ(result.outputs[0].pcm[0], 9100);
  for (const ListenerAssignment& a : result.listeners) EXPECT_NE(a.listener, 99U);  // it never listens
}

TEST(NMinusOneMixer, NonTalkersShareEveryonesMixAndTalkersHaveTheirOwn) {
  Room room;
  for (ParticipantId id = 1; id <= 3; ++id) room.add(id, sine_frame(200.0 * id, 4000.0));
  for (ParticipantId id = 4; id <= 9; ++id) room.add(id, silence());
  const MixResult& result = room.rounds(2);
  ASSERT_EQ(result.outputs.size(), 4U);
  EXPECT_FALSE(result.outputs[0].excluded.has_value());
  for (ParticipantId id = 4; id <= 9; ++id) EXPECT_EQ(room.output_of(result, id), 0U) << id;
  for (std::size_t slot = 0; slot < 3; ++slot) {
    EXPECT_EQ(result.outputs[slot + 1].excluded, result.talkers[slot]);
    EXPECT_EQ(room.output_of(result, result.talkers[slot]), slot + 1);
  }
  EXPECT_EQ(result.listeners.size(), 9U);
}

TEST(NMinusOneMixer, BeforeTheAttackNoOneIsATalker) {
  Room room;
  room.add(1, sine_frame(300.0, 6000.0));
  room.add(2, silence());
  const MixResult& result = room.round();
  EXPECT_TRUE(result.talkers.empty());
  for (const Sample s : room.heard_by(result, 2)) ASSERT_EQ(s, 0);
}

TEST(NMinusOneMixer, TheKCapPicksTheLoudest) {
  Room room;
  room.add(1, constant_frame(1000));
  room.add(2, constant_frame(8000));
  room.add(3, constant_frame(2000));
  room.add(4, constant_frame(6000));
  room.add(5, constant_frame(4000));
  const MixResult& result = room.rounds(2);
  EXPECT_EQ(ids(result.talkers), (std::vector<ParticipantId>{2, 4, 5}));
  EXPECT_EQ(room.heard_by(result, 1)[0], 18000);  // a non-talker hears the three, not the quieter two
  EXPECT_EQ(room.heard_by(result, 2)[0], 10000);
}

TEST(NMinusOneMixer, HysteresisKeepsTalkersAgainstASlightlyLouderNewcomer) {
  Room room;
  room.add(1, constant_frame(4000));  // -18 dBov
  room.add(2, constant_frame(3000));  // -21
  room.add(3, constant_frame(2000));  // -24
  room.add(4, silence());
  room.rounds(5);
  room.set_frame(4, constant_frame(2500));  // -22: 2 dB louder than 3, not enough
  EXPECT_EQ(ids(room.rounds(10).talkers), (std::vector<ParticipantId>{1, 2, 3}));
  room.set_frame(4, constant_frame(8000));  // -12: 12 dB louder than 3, displaces it once smoothed
  const MixResult& result = room.rounds(3);
  EXPECT_EQ(ids(result.talkers), (std::vector<ParticipantId>{1, 2, 4}));
  EXPECT_EQ(room.heard_by(result, 3)[0], 15000);
}

TEST(NMinusOneMixer, ATalkerThatStopsIsDroppedWhenItsHangoverEnds) {
  Room room;
  room.add(1, constant_frame(8000));
  room.add(2, constant_frame(8000));
  room.add(3, constant_frame(8000));
  room.add(4, constant_frame(400));  // speaking (-38 dBov) but 26 dB quieter: waits for a free slot
  room.rounds(5);
  room.set_frame(1, silence());
  for (int quiet = 1; quiet <= 15; ++quiet) {
    const MixResult& result = room.round();
    ASSERT_EQ(ids(result.talkers), (std::vector<ParticipantId>{1, 2, 3})) << "quiet frame " << quiet;
    // 1 is still a talker in its pause: it hears 2 and 3, and contributes its silence.
    ASSERT_EQ(room.heard_by(result, 1)[0], 16000);
  }
  const MixResult& result = room.round();
  EXPECT_EQ(ids(result.talkers), (std::vector<ParticipantId>{2, 3, 4}));
  EXPECT_EQ(room.heard_by(result, 1)[0], 16400);
}

TEST(NMinusOneMixer, MutedParticipantsContributeNothingAndStillListen) {
  Room room;
  room.add(1, constant_frame(1000));
  room.add(2, constant_frame(2000));
  room.add(3, constant_frame(20000), {.format = kPcmu20, .muted = true});
  const MixResult& result = room.rounds(3);
  EXPECT_EQ(ids(result.talkers), (std::vector<ParticipantId>{1, 2}));
  EXPECT_EQ(room.heard_by(result, 3)[0], 3000);
  EXPECT_EQ(room.heard_by(result, 1)[0], 2000);
  EXPECT_EQ(room.mixer_.counters().analysis_sample_ops, 3 * 2 * kFrameSamples);  // the muted one is not measured

  ASSERT_TRUE(room.mixer_.set_muted(3, false));
  room.round();  // attack: one frame is not enough
  EXPECT_EQ(ids(room.round().talkers), (std::vector<ParticipantId>{1, 2, 3}));
  ASSERT_TRUE(room.mixer_.set_muted(1, true));
  const MixResult& muted = room.round();  // muting takes effect at once, without a hangover
  EXPECT_EQ(ids(muted.talkers), (std::vector<ParticipantId>{2, 3}));
  EXPECT_EQ(room.output_of(muted, 1), 0U);
  EXPECT_EQ(room.heard_by(muted, 1)[0], 22000);
  EXPECT_EQ(room.heard_by(muted, 2)[0], 20000);
}

TEST(NMinusOneMixer, InputGainScalesWhatAParticipantContributes) {
  Room room;
  room.add(1, constant_frame(4000), {.format = kPcmu20, .gain_db = 20.0 * std::log10(0.5)});
  room.add(2, constant_frame(1000));
  room.add(3, silence());
  const MixResult& result = room.rounds(2);
  ASSERT_EQ(ids(result.talkers), (std::vector<ParticipantId>{1, 2}));
  EXPECT_EQ(room.heard_by(result, 2)[0], 2000);  // 4000 at -6.02 dB
  EXPECT_EQ(room.heard_by(result, 1)[0], 1000);
  EXPECT_EQ(room.heard_by(result, 3)[0], 3000);

  ASSERT_TRUE(room.mixer_.set_gain_db(2, -40.0));  // -30 dBov - 40 dB: below the speech threshold
  const MixResult& quieted = room.rounds(20);
  EXPECT_EQ(ids(quieted.talkers), (std::vector<ParticipantId>{1}));
  EXPECT_FALSE(room.mixer_.set_gain_db(99, 0.0));
}

TEST(NMinusOneMixer, LimiterKeepsFullScaleSumsFromWrapping) {
  Room room;
  for (ParticipantId id = 1; id <= 3; ++id) room.add(id, constant_frame(32000));
  room.add(4, silence());
  for (int frame = 0; frame < 5; ++frame) {
    const MixResult& result = room.round();
    for (const MixOutput& output : result.outputs) {
      for (const Sample s : output.pcm) ASSERT_GE(s, 0) << "a wrapped sum turns negative";
    }
  }
  const MixResult& result = room.round();
  EXPECT_NEAR(room.heard_by(result, 4)[kFrameSamples - 1], 24576, 1);  // 96000 limited to the threshold
  EXPECT_NEAR(room.heard_by(result, 1)[kFrameSamples - 1], 24576, 1);  // 64000 too
  EXPECT_GT(room.mixer_.counters().limited_outputs, 0U);
}

TEST(NMinusOneMixer, EncodeGroupsShareOneEncodePerCodecAndPtimeAmongNonTalkers) {
  Room room;
  room.add(1, constant_frame(4000), {.format = kPcmu20});  // talker
  room.add(2, constant_frame(3000), {.format = kOpus20});  // talker
  room.add(3, silence(), {.format = kPcmu20});
  room.add(4, silence(), {.format = {"pcmu", 20ms}});  // encoding names are case-insensitive
  room.add(5, silence(), {.format = kOpus20});
  room.add(6, silence(), {.format = kG722});
  room.add(7, silence(), {.format = kPcmu30});
  room.add(8, silence(), {.format = kPcmu30});
  room.add(9, silence(), {.format = kOpus20, .listening = false});  // sendonly: nothing to encode
  const MixResult& result = room.rounds(2);
  ASSERT_EQ(ids(result.talkers), (std::vector<ParticipantId>{1, 2}));

  std::map<std::pair<std::string, long>, std::vector<ParticipantId>> shared;
  std::vector<std::pair<std::size_t, std::string>> own;
  for (const EncodeGroup& group : result.encodes) {
    if (group.output == 0) {
      shared[{group.format->codec, group.format->ptime.count()}] = ids(group.listeners);
    } else {
      ASSERT_EQ(group.listeners.size(), 1U);
      EXPECT_EQ(group.listeners[0], result.outputs[group.output].excluded);
      own.emplace_back(group.output, group.format->codec);
    }
  }
  const std::map<std::pair<std::string, long>, std::vector<ParticipantId>> expected{
      {{"pcmu", 20}, {3, 4}}, {{"opus", 20}, {5}}, {{"g722", 20}, {6}}, {{"pcmu", 30}, {7, 8}}};
  EXPECT_EQ(shared, expected);
  EXPECT_EQ(own, (std::vector<std::pair<std::size_t, std::string>>{{1, "pcmu"}, {2, "opus"}}));
  EXPECT_EQ(result.encodes.size(), 6U);
  EXPECT_EQ(result.listeners.size(), 8U);
}

TEST(NMinusOneMixer, AFormatWhoseListenersAreAllTalkersNeedsNoSharedEncode) {
  Room room;
  room.add(1, constant_frame(4000), {.format = kG722});
  room.add(2, silence(), {.format = kPcmu20});
  const MixResult& result = room.rounds(2);
  ASSERT_EQ(result.encodes.size(), 2U);
  EXPECT_EQ(result.encodes[0].output, 0U);
  EXPECT_EQ(result.encodes[0].format->codec, "pcmu");
  EXPECT_EQ(result.encodes[1].output, 1U);
  EXPECT_EQ(result.encodes[1].format->codec, "g722");
}

TEST(NMinusOneMixer, Rfc6464LevelsReplaceTheEnergyMeasurement) {
  NMinusOneMixer mixer;
  ASSERT_TRUE(mixer.add_participant(1, {.format = kPcmu20}));
  ASSERT_TRUE(mixer.add_participant(2, {.format = kPcmu20}));
  const AudioFrame quiet = constant_frame(10);  // -70 dBov by energy, but the sender says -20
  const std::vector<MixInput> inputs{{.id = 1, .frame = quiet, .level_dbov = 20},
                                     {.id = 2, .frame = quiet, .level_dbov = 20, .voice_activity = false}};
  mixer.mix(inputs);
  const MixResult& result = mixer.mix(inputs);
  EXPECT_EQ(ids(result.talkers), (std::vector<ParticipantId>{1}));  // 2's V flag says no voice
  EXPECT_EQ(mixer.counters().analysis_sample_ops, 0U);
}

// A frame its owner renders only when asked, counting how often it is.
class CountingDeferredFrame final : public DeferredFrame {
 public:
  explicit CountingDeferredFrame(FrameView frame) : frame_(frame) {}
  FrameView render() override {
    ++renders_;
    return frame_;
  }
  [[nodiscard]] int renders() const { return renders_; }

 private:
  FrameView frame_;
  int renders_ = 0;
};

TEST(NMinusOneMixer, DeferredFramesAreRenderedOnlyForTheTalkersAndMixExactlyAsGivenFrames) {
  constexpr ParticipantId kMembers = 20;
  std::vector<AudioFrame> frames;
  for (ParticipantId id = 1; id <= kMembers; ++id)
    frames.push_back(id <= 3 ? sine_frame(200.0 + 100.0 * id, 5000.0) : constant_frame(2));
  NMinusOneMixer deferred_mixer;
  NMinusOneMixer direct_mixer;
  std::vector<CountingDeferredFrame> deferred;
  for (ParticipantId id = 1; id <= kMembers; ++id) {
    ASSERT_TRUE(deferred_mixer.add_participant(id, {.format = kPcmu20}));
    ASSERT_TRUE(direct_mixer.add_participant(id, {.format = kPcmu20}));
    deferred.emplace_back(frames[id - 1]);
  }
  std::vector<MixInput> deferred_inputs;
  std::vector<MixInput> direct_inputs;
  for (ParticipantId id = 1; id <= kMembers; ++id) {
    // The level a decoder reports, which the direct mixer measures from the frame itself.
    const std::uint8_t level = frame_level_dbov(frames[id - 1]);
    deferred_inputs.push_back({.id = id, .level_dbov = level, .deferred = &deferred[id - 1]});
    direct_inputs.push_back({.id = id, .frame = frames[id - 1]});
  }
  constexpr int kRounds = 4;
  for (int round = 0; round < kRounds; ++round) {
    const MixResult& by_deferred = deferred_mixer.mix(deferred_inputs);
    const MixResult& by_frame = direct_mixer.mix(direct_inputs);
    ASSERT_EQ(ids(by_deferred.talkers), ids(by_frame.talkers));
    ASSERT_EQ(by_deferred.outputs.size(), by_frame.outputs.size());
    for (std::size_t o = 0; o < by_frame.outputs.size(); ++o) {
      const FrameView a = by_deferred.outputs[o].pcm;
      const FrameView b = by_frame.outputs[o].pcm;
      ASSERT_TRUE(std::equal(a.begin(), a.end(), b.begin(), b.end())) << "round " << round << ", output " << o;
    }
  }
  EXPECT_EQ(ids(deferred_mixer.last_result().talkers), (std::vector<ParticipantId>{1, 2, 3}));
  // The talkers are rendered once a round from their attack on (the 2-frame attack: rounds 2..4).
  for (ParticipantId id = 1; id <= 3; ++id) EXPECT_EQ(deferred[id - 1].renders(), kRounds - 1) << id;
  for (ParticipantId id = 4; id <= kMembers; ++id) EXPECT_EQ(deferred[id - 1].renders(), 0) << id;
  EXPECT_EQ(deferred_mixer.counters().deferred_inputs, std::uint64_t{kMembers} * kRounds);
  EXPECT_EQ(deferred_mixer.counters().deferred_renders, 3U * (kRounds - 1));
  EXPECT_EQ(deferred_mixer.counters().analysis_sample_ops, 0U);
}

TEST(NMinusOneMixer, ADeferredFrameWithoutALevelIsRenderedForItsEnergyAndAShortOneIsDropped) {
  NMinusOneMixer mixer;
  ASSERT_TRUE(mixer.add_participant(1, {.format = kPcmu20}));
  ASSERT_TRUE(mixer.add_participant(2, {.format = kPcmu20}));
  const AudioFrame loud = constant_frame(8000);
  const std::vector<Sample> short_frame(480, 8000);
  CountingDeferredFrame unlevelled(loud);
  CountingDeferredFrame short_one(short_frame);
  const std::vector<MixInput> inputs{{.id = 1, .deferred = &unlevelled},
                                     {.id = 2, .level_dbov = 10, .deferred = &short_one}};
  mixer.mix(inputs);
  const MixResult& result = mixer.mix(inputs);
  // 1 measured by energy (rendered once a round); 2 a talker by its level, its short frame dropped.
  EXPECT_EQ(ids(result.talkers), (std::vector<ParticipantId>{1, 2}));
  EXPECT_EQ(unlevelled.renders(), 2);
  EXPECT_EQ(short_one.renders(), 1);
  EXPECT_EQ(mixer.counters().dropped_bad_frame_size, 1U);
  // 1 hears nothing from 2, whose frame was dropped: silence.
  const FrameView heard_by_1 = result.outputs[result.listeners[0].output].pcm;
  EXPECT_TRUE(std::ranges::all_of(heard_by_1, [](Sample s) { return s == 0; }));
}

TEST(NMinusOneMixer, BadInputIsDroppedAndCounted) {
  NMinusOneMixer mixer;
  ASSERT_TRUE(mixer.add_participant(1, {.format = kPcmu20}));
  EXPECT_FALSE(mixer.add_participant(1, {.format = kPcmu20}));
  const AudioFrame loud = constant_frame(8000);
  const std::vector<Sample> short_frame(480, 8000);
  const std::vector<MixInput> inputs{{.id = 7, .frame = loud},
                                     {.id = 1, .frame = short_frame},
                                     {.id = 1, .frame = loud, .level_dbov = 200},
                                     {.id = 1, .frame = loud}};
  mixer.mix(inputs);
  const MixResult& result = mixer.mix(inputs);
  EXPECT_EQ(ids(result.talkers), (std::vector<ParticipantId>{1}));  // the third input, measured by energy
  EXPECT_EQ(mixer.counters().dropped_unknown_participant, 2U);
  EXPECT_EQ(mixer.counters().dropped_bad_frame_size, 2U);
  EXPECT_EQ(mixer.counters().ignored_bad_level, 2U);
  EXPECT_EQ(mixer.counters().dropped_duplicate_input, 2U);
}

TEST(NMinusOneMixer, ParticipantLimitAndRemoval) {
  NMinusOneMixer mixer({.max_participants = 2});
  EXPECT_TRUE(mixer.add_participant(1, {.format = kPcmu20}));
  EXPECT_TRUE(mixer.add_participant(2, {.format = kOpus20}));
  EXPECT_FALSE(mixer.add_participant(3, {.format = kPcmu20}));
  EXPECT_TRUE(mixer.remove_participant(1));
  EXPECT_FALSE(mixer.remove_participant(1));
  EXPECT_TRUE(mixer.add_participant(3, {.format = kG722}));
  const AudioFrame loud = constant_frame(8000);
  const std::vector<MixInput> inputs{{.id = 2, .frame = loud}, {.id = 3, .frame = loud}};
  mixer.mix(inputs);
  const MixResult& result = mixer.mix(inputs);
  EXPECT_EQ(ids(result.talkers), (std::vector<ParticipantId>{2, 3}));
  EXPECT_TRUE(mixer.remove_participant(2));  // a talker leaves: the next round forgets it
  const MixResult& after = mixer.mix(inputs);
  EXPECT_EQ(ids(after.talkers), (std::vector<ParticipantId>{3}));
  ASSERT_EQ(after.encodes.size(), 1U);
  EXPECT_EQ(after.encodes[0].format->codec, "g722");
}

}  // namespace n_minus_one_mixer_test
}  // namespace chorus::mixer
