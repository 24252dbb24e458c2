// Limiter: bit-exact below the threshold, never wraps above it, and recovers.
#include "mixer/limiter.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

namespace chorus::mixer {
namespace limiter_test {

MixBuffer sine_sum(double amplitude, double hz = 440.0) {
  MixBuffer buffer;
  for (std::size_t i = 0; i < kFrameSamples; ++i) {
    const double t = static_cast<double>(i) / kSampleRateHz;
    buffer[i] = static_cast<std::int32_t>(std::lround(amplitude * std::sin(2.0 * std::numbers::pi * hz * t)));
  }
  return buffer;
}

TEST(Limiter, IsTransparentBelowTheThreshold) {
  Limiter limiter;
  const MixBuffer in = sine_sum(24'576.0);  // peaks exactly at the threshold
  AudioFrame out;
  for (int frame = 0; frame < 3; ++frame) {
    EXPECT_EQ(limiter.process(in, out), 2 * kFrameSamples);
    for (std::size_t i = 0; i < kFrameSamples; ++i) ASSERT_EQ(out[i], in[i]) << "sample " << i;
    EXPECT_EQ(limiter.gain(), 1.0);
  }
}

TEST(Limiter, ThreeFullScaleTalkersDoNotWrap) {
  Limiter limiter;
  const MixBuffer in = sine_sum(3.0 * 32'767.0);  // three in-phase full-scale sines
  AudioFrame out;
  for (int frame = 0; frame < 5; ++frame) {
    limiter.process(in, out);
    for (std::size_t i = 0; i < kFrameSamples; ++i) {
      // A wrap would flip the sign; soft limiting keeps it and stays within full scale.
      if (in[i] > 0) {
        ASSERT_GE(out[i], 0) << "frame " << frame << " sample " << i;
      }
      if (in[i] < 0) {
        ASSERT_LE(out[i], 0) << "frame " << frame << " sample " << i;
      }
    }
  }
  EXPECT_LT(limiter.gain(), 1.0);
  // Once the gain has settled (after the 1 ms attack) the peak sits at the threshold.
  std::int32_t peak = 0;
  for (std::size_t i = 48; i < kFrameSamples; ++i) peak = std::max<std::int32_t>(peak, std::abs(out[i]));
  EXPECT_NEAR(peak, 24'576, 2);
}

TEST(Limiter, ExtremeSumsClampWithoutWrapping) {
  Limiter limiter;
  MixBuffer in;
  for (std::size_t i = 0; i < kFrameSamples; ++i) in[i] = (i % 2 == 0) ? 5'000'000 : -5'000'000;
  AudioFrame out;
  limiter.process(in, out);
  for (std::size_t i = 0; i < kFrameSamples; ++i) {
    ASSERT_EQ(out[i] > 0, in[i] > 0) << "sample " << i;
    ASSERT_NE(out[i], 0);
  }
  EXPECT_EQ(out[0], 32'767);  // the very first sample, before the attack has acted: the knee's ceiling
}

TEST(Limiter, RecoversToUnityAndIsExactAgain) {
  Limiter limiter;
  AudioFrame out;
  limiter.process(sine_sum(60'000.0), out);
  ASSERT_LT(limiter.gain(), 0.5);
  const MixBuffer quiet = sine_sum(8'000.0);
  int frames = 0;
  while (limiter.gain() < 1.0 && frames < 200) {
    limiter.process(quiet, out);
    ++frames;
  }
  EXPECT_EQ(limiter.gain(), 1.0);
  EXPECT_GT(frames, 5);  // a release, not a jump
  EXPECT_LT(frames, 100);
  limiter.process(quiet, out);
  for (std::size_t i = 0; i < kFrameSamples; ++i) ASSERT_EQ(out[i], quiet[i]);
}

TEST(Limiter, GainNeverStepsAtAFrameBoundary) {
  Limiter limiter;
  AudioFrame out;
  MixBuffer loud;
  loud.fill(60'000);
  limiter.process(loud, out);
  const std::int16_t last = out[kFrameSamples - 1];
  MixBuffer quieter;
  quieter.fill(30'000);  // still over the threshold; the gain releases from where it was
  limiter.process(quieter, out);
  EXPECT_LE(std::abs(out[0] - last / 2), 200);  // continuous: the gain carried over, no jump to unity
}

}  // namespace limiter_test
}  // namespace chorus::mixer
