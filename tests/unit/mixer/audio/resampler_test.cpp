// UpsamplerTo48k (mixer/audio/resampler.*): the figures its header promises, for both input rates:
// the passband flat, the images of the input rate far down, a constant kept at every phase, and
// the same output however the input is cut into packets.
#include "mixer/audio/resampler.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "tests/unit/mixer/audio/codec_test_support.hpp"

namespace chorus::mixer {
namespace resampler_test {

using testing::amplitude_at;
using testing::decibels;
using testing::tone;

// 0.4 s of a tone through a fresh upsampler from `rate_hz`.
std::vector<Sample> upsampled_tone(std::uint32_t rate_hz, double hz, double amplitude) {
  UpsamplerTo48k upsampler(rate_hz);
  std::vector<Sample> out;
  const std::size_t samples = rate_hz * 2 / 5;
  upsampler.process(tone(hz, amplitude, rate_hz, samples), out);
  EXPECT_EQ(out.size(), upsampler.factor() * samples);
  return out;
}

TEST(UpsamplerTo48k, KeepsTheNarrowbandVoiceBandFlatWithin0Point1Db) {
  for (const double hz : {300.0, 1'000.0, 2'000.0, 3'000.0}) {
    const auto out = upsampled_tone(8'000, hz, 10'000.0);
    EXPECT_NEAR(decibels(amplitude_at(out, hz) / 10'000.0), 0.0, 0.1) << hz << " Hz";
  }
}

TEST(UpsamplerTo48k, KeepsTheWidebandVoiceBandFlatWithin0Point1Db) {
  // G.722's band is 50–7,000 Hz (ITU-T G.722 §1.1).
  for (const double hz : {300.0, 1'000.0, 3'000.0, 5'000.0, 7'000.0}) {
    const auto out = upsampled_tone(16'000, hz, 10'000.0);
    EXPECT_NEAR(decibels(amplitude_at(out, hz) / 10'000.0), 0.0, 0.1) << hz << " Hz";
  }
}

TEST(UpsamplerTo48k, PutsTheImagesOfThe8kHzStream80DbDown) {
  for (const double hz : {1'000.0, 3'000.0}) {
    const auto out = upsampled_tone(8'000, hz, 20'000.0);
    const double wanted = amplitude_at(out, hz);
    // Zero-stuffing by 6 puts copies of the tone at k · 8 kHz ± f up to 24 kHz.
    for (const double image : {8'000.0 - hz, 8'000.0 + hz, 16'000.0 - hz, 16'000.0 + hz, 24'000.0 - hz})
      EXPECT_LT(decibels(amplitude_at(out, image) / wanted), -80.0) << hz << " Hz, image at " << image;
  }
}

TEST(UpsamplerTo48k, PutsTheImagesOfThe16kHzStream80DbDown) {
  for (const double hz : {1'000.0, 3'000.0, 6'000.0}) {
    const auto out = upsampled_tone(16'000, hz, 20'000.0);
    const double wanted = amplitude_at(out, hz);
    // Zero-stuffing by 3 puts copies of the tone at 16 kHz ± f (up to 24 kHz).
    for (const double image : {16'000.0 - hz, 16'000.0 + hz})
      EXPECT_LT(decibels(amplitude_at(out, image) / wanted), -80.0) << hz << " Hz, image at " << image;
  }
}

TEST(UpsamplerTo48k, TurnsAConstantIntoTheSameConstantAtEveryPhase) {
  for (const std::uint32_t rate : {8'000U, 16'000U}) {
    UpsamplerTo48k upsampler(rate);
    std::vector<Sample> out;
    upsampler.process(std::vector<float>(400, 1'000.0F), out);
    // Past the filter's start: its taps' span in output samples.
    for (std::size_t n = upsampler.factor() * upsampler.taps_per_phase(); n < out.size(); ++n)
      ASSERT_EQ(out[n], 1'000) << rate << " Hz, sample " << n;
  }
}

TEST(UpsamplerTo48k, GivesTheSameOutputInPiecesAsInOneGo) {
  for (const std::uint32_t rate : {8'000U, 16'000U}) {
    const auto input = tone(700.0, 8'000.0, rate, 2'500);
    UpsamplerTo48k whole(rate);
    std::vector<Sample> at_once;
    whole.process(input, at_once);  // longer than kMaxInput: taken in parts inside
    UpsamplerTo48k pieces(rate);
    std::vector<Sample> in_pieces;
    for (std::size_t start = 0; start < input.size(); start += 160)
      pieces.process(std::span<const float>(input).subspan(start, std::min<std::size_t>(160, input.size() - start)),
                     in_pieces);
    EXPECT_EQ(at_once, in_pieces) << rate << " Hz";
  }
}

TEST(UpsamplerTo48k, RefusesARateThatIsNotAFactorOf48kHzItKnows) {
  EXPECT_THROW((void)UpsamplerTo48k{44'100}, std::invalid_argument);
  EXPECT_THROW((void)UpsamplerTo48k{0}, std::invalid_argument);
}

// 0.4 s of a 48 kHz tone through a fresh downsampler to `rate_hz`, frame by frame, back at 48 kHz
// through an upsampler (whose passband and images the tests above pin) so amplitude_at can measure it.
std::vector<Sample> downsampled_tone(std::uint32_t rate_hz, double hz, double amplitude) {
  DownsamplerFrom48k downsampler(rate_hz);
  UpsamplerTo48k upsampler(rate_hz);
  const auto input = tone(hz, amplitude, kSampleRateHz, kFrameSamples * 20);
  std::vector<Sample> frame(kFrameSamples);
  std::vector<std::int16_t> narrow;
  std::vector<Sample> out;
  for (std::size_t start = 0; start < input.size(); start += kFrameSamples) {
    for (std::size_t i = 0; i < kFrameSamples; ++i) frame[i] = static_cast<Sample>(std::lround(input[start + i]));
    downsampler.process(frame, narrow);
    EXPECT_EQ(narrow.size(), kFrameSamples / downsampler.factor());
    upsampler.process(std::vector<float>(narrow.begin(), narrow.end()), out);
  }
  return out;
}

TEST(DownsamplerFrom48k, KeepsEachVoiceBandFlatWithin0Point2Db) {
  // Down and back up: the two filters' passbands together.
  for (const double hz : {300.0, 1'000.0, 3'000.0})
    EXPECT_NEAR(decibels(amplitude_at(downsampled_tone(8'000, hz, 10'000.0), hz) / 10'000.0), 0.0, 0.2) << hz;
  for (const double hz : {300.0, 1'000.0, 5'000.0, 7'000.0})
    EXPECT_NEAR(decibels(amplitude_at(downsampled_tone(16'000, hz, 10'000.0), hz) / 10'000.0), 0.0, 0.2) << hz;
}

TEST(DownsamplerFrom48k, KeepsWhatWouldFoldIntoTheBand80DbDown) {
  // A tone above the new Nyquist frequency would come back as its alias, rate − f (or f − rate).
  for (const double hz : {5'000.0, 7'000.0, 10'000.0, 20'000.0}) {
    const double alias = hz < 8'000.0 ? 8'000.0 - hz : std::abs(hz - 8'000.0 * std::round(hz / 8'000.0));
    const auto out = downsampled_tone(8'000, hz, 20'000.0);
    if (alias > 50.0) EXPECT_LT(decibels(amplitude_at(out, alias) / 20'000.0), -80.0) << hz << " Hz → " << alias;
  }
  for (const double hz : {9'500.0, 12'000.0, 20'000.0}) {
    const double alias = std::abs(hz - 16'000.0 * std::round(hz / 16'000.0));
    const auto out = downsampled_tone(16'000, hz, 20'000.0);
    EXPECT_LT(decibels(amplitude_at(out, alias) / 20'000.0), -80.0) << hz << " Hz → " << alias;
  }
}

TEST(DownsamplerFrom48k, TurnsAConstantIntoTheSameConstant) {
  for (const std::uint32_t rate : {8'000U, 16'000U}) {
    DownsamplerFrom48k downsampler(rate);
    const std::vector<Sample> frame(kFrameSamples, 1'000);
    std::vector<std::int16_t> out;
    for (int i = 0; i < 3; ++i) downsampler.process(frame, out);  // past the filter's start
    for (const auto sample : out) ASSERT_EQ(sample, 1'000) << rate;
  }
}

TEST(DownsamplerFrom48k, RefusesARateItDoesNotKnow) {
  EXPECT_THROW((void)DownsamplerFrom48k{44'100}, std::invalid_argument);
}

}  // namespace resampler_test
}  // namespace chorus::mixer
