// BandwidthEstimator's own rules: transport-wide numbers stamped in order, the start value,
// the floor, the maximum and REMB as caps, configuration checked, feedback about nothing we sent
// ignored, and one probe cluster end to end (asked for, sent, reported by TransportCcRecorder)
// lifting the estimate to the rate it arrived at.
#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <vector>

#include "media/rtcp/rtcp_header.hpp"
#include "media/rtcp/transport_cc.hpp"
#include "media/rtcp/transport_cc_recorder.hpp"
#include "sfu/bwe/bandwidth_estimator.hpp"

namespace chorus::sfu::bwe {
namespace bandwidth_estimator_test {

using namespace std::chrono_literals;
using media::rtcp::TransportCc;

const Timestamp kT0{100s};

TEST(BandwidthEstimator, StampsConsecutiveTransportSequenceNumbers) {
  BandwidthEstimator estimator;
  EXPECT_EQ(estimator.on_packet_sent(kT0, 1200), 0);
  EXPECT_EQ(estimator.on_packet_sent(kT0, 1200), 1);
  EXPECT_EQ(estimator.on_packet_sent(kT0, 300, 5U), 2);
  EXPECT_EQ(estimator.counters().packets_sent, 3U);
  EXPECT_EQ(estimator.counters().probe_packets_sent, 1U);
}

TEST(BandwidthEstimator, StartsAtConfiguredBitrateWithinMaximum) {
  EXPECT_EQ(BandwidthEstimator({.start_bps = 300'000}).estimate_bps(), 300'000U);
  EXPECT_EQ(BandwidthEstimator().estimate_bps(), 1'000'000U);
}

TEST(BandwidthEstimator, RembCapsEstimateButNeverBelowFloor) {
  BandwidthEstimator estimator({.start_bps = 1'000'000, .min_bps = 50'000});
  estimator.on_remb(600'000);
  EXPECT_EQ(estimator.estimate_bps(), 600'000U);
  estimator.on_remb(10'000);
  EXPECT_EQ(estimator.estimate_bps(), 50'000U);
  estimator.on_remb(0);  // removed
  EXPECT_EQ(estimator.estimate_bps(), 1'000'000U);
  EXPECT_EQ(estimator.counters().remb_updates, 3U);
}

TEST(BandwidthEstimator, ProbesNoHigherThanRembOrMaximumAllow) {
  BandwidthEstimator estimator({.start_bps = 500'000, .max_bps = 5'000'000});
  estimator.set_wanted_bitrate(10'000'000);
  estimator.on_remb(800'000);  // the estimate is capped at 500 kbit/s start anyway
  const auto cluster = estimator.next_probe(kT0);
  ASSERT_TRUE(cluster);
  EXPECT_EQ(cluster->bitrate_bps, 800'000U);
  BandwidthEstimator capped({.start_bps = 500'000, .max_bps = 550'000});
  capped.set_wanted_bitrate(10'000'000);
  EXPECT_FALSE(capped.next_probe(kT0));
}

TEST(BandwidthEstimator, RejectsInconsistentConfiguration) {
  EXPECT_THROW(BandwidthEstimator({.start_bps = 1'000'000, .min_bps = 0}), std::invalid_argument);
  EXPECT_THROW(BandwidthEstimator({.start_bps = 10'000, .min_bps = 50'000}), std::invalid_argument);
  EXPECT_THROW(BandwidthEstimator({.start_bps = 5'000'000, .max_bps = 1'000'000}), std::invalid_argument);
  EXPECT_THROW(BandwidthEstimator({.history_capacity = 0}), std::invalid_argument);
  BandwidthEstimatorConfig bad_probing;
  bad_probing.probing.step = 0.5;
  EXPECT_THROW(BandwidthEstimator{bad_probing}, std::invalid_argument);
}

TEST(BandwidthEstimator, FeedbackAboutNothingWeSentChangesNothing) {
  BandwidthEstimator estimator;
  const TransportCc feedback{1, 2, 500, 0, 0, {{500, media::rtcp::TransportCcStatus::kReceivedSmallDelta, 1ms}}};
  EXPECT_FALSE(estimator.on_transport_feedback(feedback, kT0));
  estimator.on_packet_sent(kT0, 1200);
  EXPECT_FALSE(estimator.on_transport_feedback(feedback, kT0 + 50ms));
  EXPECT_EQ(estimator.estimate_bps(), 1'000'000U);
  EXPECT_EQ(estimator.feedback_counters().unknown_packets, 2U);
}

TEST(BandwidthEstimator, ProbeClusterArrivingAtItsRateLiftsEstimate) {
  BandwidthEstimator estimator({.start_bps = 500'000});
  estimator.set_wanted_bitrate(4'000'000);
  const auto cluster = estimator.next_probe(kT0);
  ASSERT_TRUE(cluster);
  EXPECT_EQ(cluster->bitrate_bps, 1'000'000U);
  EXPECT_FALSE(estimator.next_probe(kT0 + 1ms));  // one in flight

  // Sent at the cluster's rate as 500-octet packets; a fast link delivers them 20 ms later.
  media::rtcp::TransportCcRecorder recorder;
  const std::size_t size = 500;
  const auto spacing = std::chrono::microseconds(4000);  // 500 octets at 1 Mbit/s
  Timestamp now = kT0;
  Timestamp last_sent = kT0;
  for (std::size_t sent = 0; sent < cluster->bytes; sent += size, now += spacing) {
    const auto sequence = estimator.on_packet_sent(now, size, cluster->id);
    recorder.on_packet(sequence, now + 20ms);
    last_sent = now;
  }
  std::vector<std::uint8_t> datagram(1200);
  const auto written = recorder.build_feedback(now + 20ms, 1, 2, datagram);
  const auto feedback = TransportCc::parse(*media::rtcp::RtcpHeader::parse(std::span(datagram).first(written)));
  ASSERT_TRUE(feedback);
  EXPECT_TRUE(estimator.on_transport_feedback(*feedback, now + 40ms));

  EXPECT_EQ(estimator.counters().probe_jumps, 1U);
  EXPECT_NEAR(static_cast<double>(estimator.estimate_bps()), 1'000'000, 10'000);
  EXPECT_EQ(estimator.probe_counters().successes, 1U);
  ASSERT_TRUE(estimator.rtt());
  EXPECT_EQ(*estimator.rtt(), now + 40ms - last_sent);  // the feedback's time minus the newest send
}

}  // namespace bandwidth_estimator_test
}  // namespace chorus::sfu::bwe
