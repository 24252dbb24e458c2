// BandwidthEstimator on a simulated link (simulated_link.hpp): a sender that follows the
// estimate and probes when asked, a drop-tail bottleneck, and feedback built every 100 ms by
// TransportCcRecorder and parsed from its wire bytes. Simulated time only.
//
// What it shows: probing ramps a 300 kbit/s start to a 2.5 Mbit/s link within seconds (and
// without probing the same ramp takes far longer); on a 500 kbit/s link the estimate settles
// within ±30 % with a short queue; a capacity drop is followed within 2 s; 5 % random loss
// without queueing leaves the estimate alone while 20 % loss lowers it.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <numeric>

#include "tests/unit/sfu/bwe/simulated_link.hpp"

namespace chorus::sfu::bwe::test {
namespace bandwidth_estimator_link_test {

using namespace std::chrono_literals;

std::uint64_t min_estimate(const std::vector<Sample>& samples) {
  return std::ranges::min(samples, {}, &Sample::estimate_bps).estimate_bps;
}
std::uint64_t max_estimate(const std::vector<Sample>& samples) {
  return std::ranges::max(samples, {}, &Sample::estimate_bps).estimate_bps;
}
Clock::duration max_queue(const std::vector<Sample>& samples) {
  return std::ranges::max(samples, {}, &Sample::queue_delay).queue_delay;
}
Clock::duration mean_queue(const std::vector<Sample>& samples) {
  const auto total = std::accumulate(samples.begin(), samples.end(), Clock::duration::zero(),
                                     [](Clock::duration sum, const Sample& s) { return sum + s.queue_delay; });
  return total / static_cast<std::int64_t>(samples.size());
}

TEST(BandwidthEstimatorOnSimulatedLink, ProbingRampsFrom300KbpsTo1800KbpsWithinFiveSecondsOn2500KbpsLink) {
  SimulatedCall call({.capacity_bps = 2'500'000}, {.start_bps = 300'000}, 3'000'000);
  call.run_for(15s);

  const auto reached = call.time_to_reach(1'800'000);
  ASSERT_TRUE(reached);
  EXPECT_LE(*reached, 5s);
  EXPECT_GE(call.estimator().counters().probe_jumps, 2U);  // 300 → 600 → 1200 → 2400 kbit/s
  // It stays there, not above what the link carries for long, and never fills the queue.
  const auto late = call.between(5s, 15s);
  EXPECT_GE(min_estimate(late), 1'800'000U);
  EXPECT_LE(max_estimate(late), 2'800'000U);
  EXPECT_LT(max_queue(late), 100ms);
  EXPECT_EQ(call.link().tail_drops, 0U);
}

TEST(BandwidthEstimatorOnSimulatedLink, WithoutProbingTheSameRampTakesFarLonger) {
  BandwidthEstimatorConfig config{.start_bps = 300'000};
  config.probing.max_bitrate_bps = 0;  // no probe target can beat the estimate
  SimulatedCall call({.capacity_bps = 2'500'000}, config, 3'000'000);
  call.run_for(5s);
  EXPECT_EQ(call.probe_clusters(), 0U);
  EXPECT_FALSE(call.time_to_reach(1'000'000));           // ~8 %/s: 300 → ~440 kbit/s in 5 s
  EXPECT_GT(call.estimator().estimate_bps(), 350'000U);  // but it does climb
}

TEST(BandwidthEstimatorOnSimulatedLink, SettlesWithinThirtyPercentOf500KbpsLinkWithShortQueue) {
  SimulatedCall call({.capacity_bps = 500'000}, {.start_bps = 300'000}, 2'000'000);
  call.run_for(30s);

  const auto settled = call.between(5s, 30s);
  EXPECT_GE(min_estimate(settled), 350'000U);
  EXPECT_LE(max_estimate(settled), 650'000U);
  EXPECT_LT(max_queue(settled), 150ms);  // the link's drop-tail limit is 400 ms
  EXPECT_LT(mean_queue(settled), 40ms);
  EXPECT_EQ(call.link().tail_drops, 0U);
  EXPECT_GE(call.probe_clusters(), 3U);  // it keeps asking every 5 s: the receiver wants 2 Mbit/s
}

TEST(BandwidthEstimatorOnSimulatedLink, CapacityDropFrom2000To400KbpsPullsEstimateBelow500WithinTwoSeconds) {
  SimulatedCall call({.capacity_bps = 2'000'000}, {.start_bps = 1'000'000}, 3'000'000);
  call.run_for(15s);
  ASSERT_GE(call.estimator().estimate_bps(), 1'500'000U);

  call.link().set_capacity(400'000);
  call.run_for(2s);
  EXPECT_LT(call.estimator().estimate_bps(), 500'000U);
  EXPECT_LT(min_estimate(call.between(15s, 17s)), 500'000U);

  // The queue the old rate built drains and stays short; the estimate does not collapse to the floor.
  call.run_for(8s);
  const auto after = call.between(20s, 25s);
  EXPECT_LT(max_queue(after), 100ms);
  EXPECT_GE(min_estimate(after), 200'000U);
  EXPECT_LE(max_estimate(after), 520'000U);
}

TEST(BandwidthEstimatorOnSimulatedLink, FivePercentRandomLossWithoutQueueingDoesNotCollapseEstimate) {
  SimulatedCall call({.capacity_bps = 5'000'000, .random_loss = 0.05}, {.start_bps = 1'000'000}, 2'000'000);
  call.run_for(15s);
  EXPECT_GT(call.link().random_drops, 100U);
  EXPECT_EQ(call.link().tail_drops, 0U);
  EXPECT_GE(min_estimate(call.between(1s, 15s)), 1'800'000U);  // about the wanted 2 Mbit/s, all along
  ASSERT_TRUE(call.estimator().loss_fraction());
  EXPECT_NEAR(*call.estimator().loss_fraction(), 0.05, 0.03);
  EXPECT_FALSE(call.estimator().loss_based_bps());  // 2..10 %: the loss controller holds, sets no bound
}

TEST(BandwidthEstimatorOnSimulatedLink, TwentyPercentRandomLossLowersEstimate) {
  SimulatedCall call({.capacity_bps = 5'000'000, .random_loss = 0.20}, {.start_bps = 1'000'000}, 2'000'000);
  call.run_for(15s);
  EXPECT_EQ(call.link().tail_drops, 0U);
  ASSERT_TRUE(call.estimator().loss_based_bps());
  EXPECT_LT(call.estimator().estimate_bps(), 1'000'000U);
  EXPECT_LT(max_estimate(call.between(10s, 15s)), min_estimate(call.between(1s, 3s)));  // falling, not noise
}

}  // namespace bandwidth_estimator_link_test
}  // namespace chorus::sfu::bwe::test
