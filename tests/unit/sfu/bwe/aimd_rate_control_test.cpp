// AimdRateControl (draft-ietf-rmcat-gcc-02 §5.5): ~8 %/s multiplicative increase far from
// congestion, additive near the last congestion point, decrease to 0.85 × the acknowledged
// bitrate (never up), hold while underusing, no running ahead of the acknowledged bitrate, and
// repeated decreases at most once per RTT.
#include <gtest/gtest.h>

#include <chrono>

#include "sfu/bwe/aimd_rate_control.hpp"

namespace chorus::sfu::bwe {
namespace aimd_rate_control_test {

using namespace std::chrono_literals;

const Timestamp kT0{100s};

// `usage` every 100 ms for `duration`, with `acked` as the acknowledged bitrate.
double run(AimdRateControl& aimd, BandwidthUsage usage, std::optional<double> acked, Timestamp& now,
           std::chrono::milliseconds duration) {
  for (auto elapsed = 0ms; elapsed < duration; elapsed += 100ms) {
    now += 100ms;
    aimd.update(usage, acked, now);
  }
  return aimd.estimate_bps();
}

TEST(AimdRateControl, IncreasesAboutEightPercentPerSecondFarFromCongestion) {
  AimdRateControl aimd({.start_bps = 1'000'000});
  Timestamp now = kT0;
  aimd.update(BandwidthUsage::kNormal, std::nullopt, now);  // hold → increase
  EXPECT_EQ(aimd.state(), AimdRateControl::State::kIncrease);
  EXPECT_NEAR(run(aimd, BandwidthUsage::kNormal, std::nullopt, now, 1000ms), 1'081'000, 3'000);
  EXPECT_NEAR(run(aimd, BandwidthUsage::kNormal, std::nullopt, now, 1000ms), 1'081'000 * 1.08, 6'000);
}

TEST(AimdRateControl, DecreasesToEightyFivePercentOfAcknowledgedBitrateOnOveruse) {
  AimdRateControl aimd({.start_bps = 1'000'000});
  EXPECT_DOUBLE_EQ(aimd.update(BandwidthUsage::kOverusing, 800'000.0, kT0), 680'000.0);
  EXPECT_EQ(aimd.state(), AimdRateControl::State::kHold);
  EXPECT_TRUE(aimd.link_capacity().known());
  EXPECT_DOUBLE_EQ(aimd.link_capacity().mean_bps(), 800'000.0);
}

TEST(AimdRateControl, OveruseNeverRaisesTheEstimate) {
  AimdRateControl aimd({.start_bps = 1'000'000});
  EXPECT_DOUBLE_EQ(aimd.update(BandwidthUsage::kOverusing, 2'000'000.0, kT0), 1'000'000.0);
  EXPECT_DOUBLE_EQ(aimd.update(BandwidthUsage::kOverusing, std::nullopt, kT0 + 1s), 850'000.0);
}

TEST(AimdRateControl, IncreasesAdditivelyNearLastCongestionPoint) {
  AimdRateControl aimd({.start_bps = 2'000'000});
  Timestamp now = kT0;
  aimd.update(BandwidthUsage::kOverusing, 2'000'000.0, now);  // congestion at 2 Mbit/s → 1.7
  const double after_decrease = aimd.estimate_bps();
  const double after_second = run(aimd, BandwidthUsage::kNormal, 1'700'000.0, now, 1000ms);
  // §5.5: ~one 9.4 kbit packet per response time (200 ms RTT + 100 ms) ≈ 31 kbit/s per second,
  // where multiplicative increase would have added ~136 kbit/s.
  EXPECT_GT(after_second - after_decrease, 20'000);
  EXPECT_LT(after_second - after_decrease, 45'000);
}

TEST(AimdRateControl, ShorterRttMakesAdditiveIncreaseFaster) {
  AimdRateControl slow({.start_bps = 2'000'000});
  AimdRateControl fast({.start_bps = 2'000'000});
  fast.set_rtt(20ms);
  Timestamp a = kT0;
  Timestamp b = kT0;
  slow.update(BandwidthUsage::kOverusing, 2'000'000.0, a);
  fast.update(BandwidthUsage::kOverusing, 2'000'000.0, b);
  EXPECT_GT(run(fast, BandwidthUsage::kNormal, 1'700'000.0, b, 1000ms),
            run(slow, BandwidthUsage::kNormal, 1'700'000.0, a, 1000ms));
}

TEST(AimdRateControl, ThroughputFarAboveOldCapacityReturnsToMultiplicativeIncrease) {
  AimdRateControl aimd({.start_bps = 1'000'000});
  Timestamp now = kT0;
  aimd.update(BandwidthUsage::kOverusing, 500'000.0, now);  // capacity ~500 kbit/s
  ASSERT_TRUE(aimd.link_capacity().known());
  run(aimd, BandwidthUsage::kNormal, 1'000'000.0, now, 100ms);  // 1 Mbit/s got through: the link is faster
  EXPECT_FALSE(aimd.link_capacity().known());
}

TEST(AimdRateControl, HoldsWhileUnderusing) {
  AimdRateControl aimd({.start_bps = 1'000'000});
  Timestamp now = kT0;
  EXPECT_DOUBLE_EQ(run(aimd, BandwidthUsage::kUnderusing, 900'000.0, now, 2000ms), 1'000'000.0);
  EXPECT_EQ(aimd.state(), AimdRateControl::State::kHold);
}

TEST(AimdRateControl, DoesNotRunAheadOfAcknowledgedBitrate) {
  AimdRateControl aimd({.start_bps = 300'000});
  Timestamp now = kT0;
  // The sender only gets 100 kbit/s through (it has no more to send): cap 1.5 × 100 + 10.
  EXPECT_LE(run(aimd, BandwidthUsage::kNormal, 100'000.0, now, 5000ms), 300'000.0);
  AimdRateControl low({.start_bps = 100'000});
  now = kT0;
  EXPECT_NEAR(run(low, BandwidthUsage::kNormal, 100'000.0, now, 10'000ms), 160'000.0, 1.0);
}

TEST(AimdRateControl, ReducesFurtherOncePerRoundTripOrWhenFarAboveThroughput) {
  AimdRateControl aimd({.start_bps = 1'000'000});
  aimd.set_rtt(50ms);
  EXPECT_TRUE(aimd.time_to_reduce_further(kT0, 900'000.0));   // never decreased yet
  aimd.update(BandwidthUsage::kOverusing, 1'000'000.0, kT0);  // → 850 kbit/s
  EXPECT_FALSE(aimd.time_to_reduce_further(kT0 + 20ms, 800'000.0));
  EXPECT_TRUE(aimd.time_to_reduce_further(kT0 + 50ms, 800'000.0));
  EXPECT_TRUE(aimd.time_to_reduce_further(kT0 + 20ms, 400'000.0));  // estimate > 2 × throughput
}

TEST(AimdRateControl, StaysWithinConfiguredRange) {
  AimdRateControl aimd({.min_bps = 50'000, .max_bps = 2'000'000, .start_bps = 5'000'000});
  EXPECT_DOUBLE_EQ(aimd.estimate_bps(), 2'000'000.0);
  aimd.set_estimate(10, kT0);
  EXPECT_DOUBLE_EQ(aimd.estimate_bps(), 50'000.0);
  aimd.update(BandwidthUsage::kOverusing, 1'000.0, kT0);
  EXPECT_DOUBLE_EQ(aimd.estimate_bps(), 50'000.0);
}

}  // namespace aimd_rate_control_test
}  // namespace chorus::sfu::bwe
