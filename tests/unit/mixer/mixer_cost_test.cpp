// The mixer's cost is O(N + K·frame): counted sample operations (not time) for rooms of 10, 100 and
// 1000 participants with three talkers. The mixing work is the same for every N, and the work per
// participant does not grow with N.
#include <gtest/gtest.h>

#include <vector>

#include "mixer/n_minus_one_mixer.hpp"
#include "tests/unit/mixer/mixer_test_support.hpp"

namespace chorus::mixer {
namespace mixer_cost_test {

using namespace std::chrono_literals;

struct RoundCost {
  std::uint64_t mix = 0;
  std::uint64_t analysis = 0;
  std::uint64_t listeners = 0;
  std::uint64_t encodes = 0;
  std::size_t talkers = 0;
  [[nodiscard]] double per_participant(std::size_t n) const {
    return static_cast<double>(mix + analysis + listeners) / static_cast<double>(n);
  }
};

// N participants all sending audio, three of them loud; four listener formats. Measures one round
// after the talkers have settled.
RoundCost measure(std::size_t n, bool with_rfc6464_levels) {
  NMinusOneMixer mixer;
  const EncodeFormat formats[] = {{"PCMU", 20ms}, {"opus", 20ms}, {"G722", 20ms}, {"PCMU", 30ms}};
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_TRUE(mixer.add_participant(static_cast<ParticipantId>(i), {.format = formats[i % 4]}));
  }
  const AudioFrame loud = testing::sine_frame(440.0, 4000.0);
  const AudioFrame background = testing::constant_frame(20);  // -64 dBov: present, not speech
  std::vector<MixInput> inputs;
  for (std::size_t i = 0; i < n; ++i) {
    const bool talker = i < 3;
    MixInput input{.id = static_cast<ParticipantId>(i), .frame = talker ? loud : background};
    if (with_rfc6464_levels) input.level_dbov = talker ? 21 : 64;
    inputs.push_back(input);
  }
  for (int round = 0; round < 4; ++round) mixer.mix(inputs);
  const MixCounters before = mixer.counters();
  const MixResult& result = mixer.mix(inputs);
  const MixCounters& after = mixer.counters();
  return RoundCost{.mix = after.mix_sample_ops - before.mix_sample_ops,
                   .analysis = after.analysis_sample_ops - before.analysis_sample_ops,
                   .listeners = after.listener_ops - before.listener_ops,
                   .encodes = after.encodes - before.encodes,
                   .talkers = result.talkers.size()};
}

TEST(NMinusOneMixerCost, MixingWorkDoesNotGrowWithTheRoom) {
  constexpr std::uint64_t kTalkers = 3;
  // clear + K accumulations + the shared limiter's two passes + per talker (subtract + two passes).
  constexpr std::uint64_t kExpectedMixOps = (1 + kTalkers + 2 + 3 * kTalkers) * kFrameSamples;
  for (const std::size_t n : {10, 100, 1000}) {
    const RoundCost cost = measure(n, true);
    EXPECT_EQ(cost.talkers, kTalkers) << "N=" << n;
    EXPECT_EQ(cost.mix, kExpectedMixOps) << "N=" << n;
    EXPECT_EQ(cost.analysis, 0U) << "N=" << n;           // levels came in the RTP header extension
    EXPECT_EQ(cost.listeners, n) << "N=" << n;           // O(1) per listener
    EXPECT_EQ(cost.encodes, 4 + kTalkers) << "N=" << n;  // one per shared format, one per talker
  }
}

TEST(NMinusOneMixerCost, PerParticipantWorkIsFlatFrom10To1000) {
  for (const bool levels : {true, false}) {
    double previous = 0.0;
    for (const std::size_t n : {10, 100, 1000}) {
      const RoundCost cost = measure(n, levels);
      const double per_participant = cost.per_participant(n);
      // Without RFC 6464 levels each frame is measured once (its decoder touched it anyway):
      // one frame's worth per participant, plus the constant mixing spread over the room.
      const double bound = (levels ? 0.0 : static_cast<double>(kFrameSamples)) + 1.0 +
                           static_cast<double>(cost.mix) / static_cast<double>(n);
      EXPECT_LE(per_participant, bound) << "N=" << n << " levels=" << levels;
      if (previous > 0.0) {
        EXPECT_LE(per_participant, previous) << "N=" << n << " levels=" << levels;
      }
      previous = per_participant;
      if (!levels) {
        EXPECT_EQ(cost.analysis, n * kFrameSamples);
      }
    }
  }
}

}  // namespace mixer_cost_test
}  // namespace chorus::mixer
