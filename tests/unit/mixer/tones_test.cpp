// make_tone: each cue's notes are at the right frequencies in the right order (Goertzel), at
// -16 dBFS, with click-free raised-cosine edges, and the right length at 48 kHz.
#include "mixer/tones.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <span>
#include <vector>

#include "mixer/audio_frame.hpp"
#include "tests/unit/mixer/audio_analysis.hpp"

namespace chorus::mixer {
namespace tones_test {

using testing::dominant_frequency;

constexpr std::size_t samples_for_ms(int ms) {
  return static_cast<std::size_t>(ms) * kSampleRateHz / 1000;
}

// The dominant frequency of samples [from_ms, from_ms + length_ms) of `tone`.
double dominant_between(const std::vector<std::int16_t>& tone, int from_ms, int length_ms) {
  const auto window = std::span(tone).subspan(samples_for_ms(from_ms), samples_for_ms(length_ms));
  const auto candidates = testing::candidate_frequencies();
  return dominant_frequency(window, candidates, kSampleRateHz);
}

TEST(Tones, JoinRisesFrom600To900Hz) {
  const auto tone = make_tone(Tone::kJoin);
  ASSERT_EQ(tone.size(), samples_for_ms(120 + 20 + 120));
  EXPECT_EQ(dominant_between(tone, 0, 120), 600.0);
  EXPECT_EQ(dominant_between(tone, 140, 120), 900.0);
}

TEST(Tones, LeaveFallsFrom900To600Hz) {
  const auto tone = make_tone(Tone::kLeave);
  ASSERT_EQ(tone.size(), samples_for_ms(120 + 20 + 120));
  EXPECT_EQ(dominant_between(tone, 0, 120), 900.0);
  EXPECT_EQ(dominant_between(tone, 140, 120), 600.0);
}

TEST(Tones, MutedIsOneLowBeep) {
  const auto tone = make_tone(Tone::kMuted);
  ASSERT_EQ(tone.size(), samples_for_ms(200));
  EXPECT_EQ(dominant_between(tone, 0, 200), 400.0);
}

TEST(Tones, UnmutedIsTwoShortHighBeepsWithSilenceBetween) {
  const auto tone = make_tone(Tone::kUnmuted);
  ASSERT_EQ(tone.size(), samples_for_ms(80 + 60 + 80));
  EXPECT_EQ(dominant_between(tone, 0, 80), 1000.0);
  EXPECT_EQ(dominant_between(tone, 140, 80), 1000.0);
  const auto gap = std::span(tone).subspan(samples_for_ms(80), samples_for_ms(60));
  EXPECT_EQ(testing::peak_of(gap), 0);
}

TEST(Tones, PeakIsMinus16Dbfs) {
  const double expected = 32767.0 * std::pow(10.0, -16.0 / 20.0);  // ≈ 5193
  for (const Tone tone : {Tone::kJoin, Tone::kLeave, Tone::kMuted, Tone::kUnmuted}) {
    const auto samples = make_tone(tone);
    EXPECT_NEAR(testing::peak_of(samples), expected, 2.0) << static_cast<int>(tone);
  }
}

TEST(Tones, EveryNoteStartsAndEndsSilentWithA5msRamp) {
  const std::size_t ramp = samples_for_ms(5);
  for (const Tone tone : {Tone::kJoin, Tone::kLeave, Tone::kMuted, Tone::kUnmuted}) {
    const auto samples = make_tone(tone);
    std::size_t at = 0;
    for (const ToneNote& note : tone_notes(tone)) {
      const std::size_t length = samples_for_ms(static_cast<int>(note.duration.count()));
      const auto body = std::span(samples).subspan(at, length);
      EXPECT_EQ(body.front(), 0) << static_cast<int>(tone);
      EXPECT_LE(std::abs(body.back()), 1) << static_cast<int>(tone);
      // Within the first millisecond the envelope is under 10 %: no step a listener hears as a click.
      EXPECT_LT(testing::peak_of(body.first(samples_for_ms(1))), 0.1 * 5'194) << static_cast<int>(tone);
      EXPECT_LT(testing::peak_of(body.last(samples_for_ms(1))), 0.1 * 5'194) << static_cast<int>(tone);
      // After the ramp the note is at full level.
      EXPECT_GT(testing::peak_of(body.subspan(ramp, length - 2 * ramp)), 5'150) << static_cast<int>(tone);
      // No jump between neighbouring samples is bigger than a full-level sine's largest step.
      const double max_step = 5'194 * 2.0 * std::numbers::pi * note.frequency_hz / kSampleRateHz + 2.0;
      for (std::size_t i = 1; i < body.size(); ++i) {
        ASSERT_LE(std::abs(body[i] - body[i - 1]), max_step) << static_cast<int>(tone) << " sample " << i;
      }
      at += length + samples_for_ms(static_cast<int>(note.gap_after.count()));
    }
    EXPECT_EQ(at, samples.size());
  }
}

}  // namespace tones_test
}  // namespace chorus::mixer
