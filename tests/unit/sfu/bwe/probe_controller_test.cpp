// ProbeController: a series at 2×, then 2× the new estimate, one cluster in flight, a pause
// between clusters, targets bounded by the wanted bitrate and the maximum, series ended by a
// shortfall, a cap or a timeout, and restarted by a rising wanted bitrate.
#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>

#include "sfu/bwe/probe_controller.hpp"

namespace chorus::sfu::bwe {
namespace probe_controller_test {

using namespace std::chrono_literals;

const Timestamp kT0{50s};

TEST(ProbeController, NoProbeUnlessWantedIsClearlyAboveEstimate) {
  ProbeController probes;
  EXPECT_FALSE(probes.process(kT0, 1e6, 1e6));
  EXPECT_FALSE(probes.process(kT0, 1e6, 1.1e6));  // less than 1.2 ×: not worth a burst
  EXPECT_FALSE(probes.in_flight());
}

TEST(ProbeController, FirstClusterAtTwiceEstimateSizedForItsDuration) {
  ProbeController probes;
  const auto cluster = probes.process(kT0, 500'000, 5e6);
  ASSERT_TRUE(cluster);
  EXPECT_EQ(cluster->id, 1U);
  EXPECT_EQ(cluster->bitrate_bps, 1'000'000U);
  EXPECT_EQ(cluster->bytes, 6250U);  // 1 Mbit/s for 50 ms
  EXPECT_EQ(cluster->min_packets, 5U);
  EXPECT_TRUE(probes.in_flight());
}

TEST(ProbeController, OneClusterInFlightThenPauseThenDoubleTheNewEstimate) {
  ProbeController probes;
  const auto first = probes.process(kT0, 500'000, 5e6);
  ASSERT_TRUE(first);
  EXPECT_FALSE(probes.process(kT0 + 50ms, 500'000, 5e6));  // in flight
  probes.on_probe_result(first->id, 950'000.0, kT0 + 100ms);
  EXPECT_FALSE(probes.in_flight());
  EXPECT_FALSE(probes.process(kT0 + 250ms, 950'000, 5e6));  // the 200 ms pause
  const auto second = probes.process(kT0 + 300ms, 950'000, 5e6);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->id, 2U);
  EXPECT_EQ(second->bitrate_bps, 1'900'000U);  // 4 × the first estimate, near enough
  EXPECT_EQ(probes.counters().successes, 1U);
}

TEST(ProbeController, TargetCappedByWantedOrMaxEndsSeriesAfterIt) {
  ProbeController probes({.max_bitrate_bps = 3'000'000});
  auto cluster = probes.process(kT0, 1e6, 1.5e6);
  ASSERT_TRUE(cluster);
  EXPECT_EQ(cluster->bitrate_bps, 1'500'000U);  // 2 Mbit/s bounded by the wanted 1.5
  probes.on_probe_result(cluster->id, 1.5e6, kT0 + 100ms);
  EXPECT_FALSE(probes.process(kT0 + 1s, 1.5e6 / 1.3, 1.5e6));  // nothing higher to learn: retry later
  cluster = probes.process(kT0 + 5100ms, 1e6, 1.5e6);
  ASSERT_TRUE(cluster);

  ProbeController capped({.max_bitrate_bps = 1'500'000});
  cluster = capped.process(kT0, 1e6, 10e6);
  ASSERT_TRUE(cluster);
  EXPECT_EQ(cluster->bitrate_bps, 1'500'000U);
}

TEST(ProbeController, SeriesEndsWhenEstimateDoesNotFollowGoodResult) {
  ProbeController probes;
  const auto cluster = probes.process(kT0, 1e6, 10e6);
  ASSERT_TRUE(cluster);
  probes.on_probe_result(cluster->id, 2e6, kT0 + 100ms);  // a good result...
  EXPECT_FALSE(probes.process(kT0 + 300ms, 1e6, 10e6));   // ...that a loss bound kept out of the estimate
  EXPECT_FALSE(probes.process(kT0 + 1s, 1e6, 10e6));      // so the series is over until the retry interval
  EXPECT_TRUE(probes.process(kT0 + 5400ms, 1e6, 10e6));
}

TEST(ProbeController, ShortfallEndsSeriesUntilRetryInterval) {
  ProbeController probes;
  const auto cluster = probes.process(kT0, 1e6, 10e6);
  ASSERT_TRUE(cluster);
  probes.on_probe_result(cluster->id, 1.3e6, kT0 + 100ms);  // 65 % of 2 Mbit/s: the link is near
  EXPECT_EQ(probes.counters().shortfalls, 1U);
  EXPECT_FALSE(probes.process(kT0 + 4s, 1.3e6, 10e6));
  EXPECT_TRUE(probes.process(kT0 + 5100ms, 1.3e6, 10e6));
}

TEST(ProbeController, UnmeasurableResultCountsAsShortfall) {
  ProbeController probes;
  const auto cluster = probes.process(kT0, 1e6, 10e6);
  ASSERT_TRUE(cluster);
  probes.on_probe_result(cluster->id, std::nullopt, kT0 + 100ms);
  EXPECT_EQ(probes.counters().shortfalls, 1U);
  EXPECT_FALSE(probes.process(kT0 + 1s, 1e6, 10e6));
}

TEST(ProbeController, ClusterWithoutResultTimesOut) {
  ProbeController probes;
  ASSERT_TRUE(probes.process(kT0, 1e6, 10e6));
  EXPECT_FALSE(probes.process(kT0 + 999ms, 1e6, 10e6));
  EXPECT_FALSE(probes.process(kT0 + 1s, 1e6, 10e6));  // gives up, and waits the retry interval
  EXPECT_EQ(probes.counters().timeouts, 1U);
  EXPECT_FALSE(probes.in_flight());
  EXPECT_TRUE(probes.process(kT0 + 6s, 1e6, 10e6));
}

TEST(ProbeController, RisingWantedBitrateStartsSeriesAtOnce) {
  ProbeController probes;
  const auto cluster = probes.process(kT0, 1e6, 1.5e6);
  ASSERT_TRUE(cluster);
  probes.on_probe_result(cluster->id, 1.4e6, kT0 + 100ms);    // series ends: capped at the wanted 1.5
  EXPECT_FALSE(probes.process(kT0 + 200ms, 1.4e6, 1.6e6));    // a little more wanted: wait
  const auto next = probes.process(kT0 + 300ms, 1.4e6, 4e6);  // a new slot wants much more
  ASSERT_TRUE(next);
  EXPECT_EQ(next->bitrate_bps, 2'800'000U);
}

TEST(ProbeController, IgnoresResultForClusterNotInFlight) {
  ProbeController probes;
  const auto cluster = probes.process(kT0, 1e6, 10e6);
  ASSERT_TRUE(cluster);
  probes.on_probe_result(cluster->id + 1, 2e6, kT0 + 100ms);
  EXPECT_TRUE(probes.in_flight());
  EXPECT_EQ(probes.counters().successes, 0U);
}

TEST(ProbeController, RejectsUnusableConfiguration) {
  EXPECT_THROW(ProbeController({.step = 1.0}), std::invalid_argument);
  EXPECT_THROW(ProbeController({.min_gain = 0.9}), std::invalid_argument);
  EXPECT_THROW(ProbeController({.success_ratio = 0.0}), std::invalid_argument);
  EXPECT_THROW(ProbeController({.cluster_duration = 0ms}), std::invalid_argument);
  EXPECT_THROW(ProbeController({.min_packets = 0}), std::invalid_argument);
}

}  // namespace probe_controller_test
}  // namespace chorus::sfu::bwe
