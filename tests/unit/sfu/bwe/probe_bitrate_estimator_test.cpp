// ProbeBitrateEstimator: the rate a cluster reached the receiver, measured once every packet
// sent is reported; link-limited clusters give 95 % of the receive rate; implausible or thin
// measurements give "could not measure".
#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "sfu/bwe/probe_bitrate_estimator.hpp"

namespace chorus::sfu::bwe {
namespace probe_bitrate_estimator_test {

using namespace std::chrono_literals;

const Timestamp kT0{10s};
const ProbeCluster kCluster{.id = 3, .bitrate_bps = 1'000'000, .bytes = 6000, .min_packets = 5};
constexpr std::size_t kSize = 600;
// 600 octets at 1 Mbit/s: one every 4.8 ms.
constexpr std::chrono::microseconds kSendSpacing{4800};

// Ten probe packets sent at 1 Mbit/s, arriving `arrival_spacing` apart.
std::vector<PacketResult> cluster_results(std::chrono::microseconds arrival_spacing, std::uint32_t id = kCluster.id) {
  std::vector<PacketResult> packets;
  for (int i = 0; i < 10; ++i) {
    packets.push_back({i, kT0 + i * kSendSpacing, kSize, id, RemoteTime(50ms) + i * arrival_spacing});
  }
  return packets;
}

ProbeBitrateEstimator started() {
  ProbeBitrateEstimator estimator;
  estimator.on_cluster_started(kCluster);
  for (int i = 0; i < 10; ++i) estimator.on_packet_sent(kCluster.id, kSize);
  return estimator;
}

TEST(ProbeBitrateEstimator, MeasuresRateClusterArrivedAt) {
  auto estimator = started();
  const auto result = estimator.on_feedback(cluster_results(kSendSpacing));
  ASSERT_TRUE(result);
  EXPECT_EQ(result->cluster_id, kCluster.id);
  ASSERT_TRUE(result->bitrate_bps);
  EXPECT_NEAR(*result->bitrate_bps, 1'000'000, 1);
  EXPECT_FALSE(estimator.on_feedback(cluster_results(kSendSpacing)));  // measured once
}

TEST(ProbeBitrateEstimator, LinkLimitedClusterGivesNinetyFivePercentOfReceiveRate) {
  auto estimator = started();
  const auto result = estimator.on_feedback(cluster_results(2 * kSendSpacing));  // the link: 500 kbit/s
  ASSERT_TRUE(result && result->bitrate_bps);
  EXPECT_NEAR(*result->bitrate_bps, 475'000, 1);
}

TEST(ProbeBitrateEstimator, WaitsUntilEveryPacketSentIsReported) {
  auto estimator = started();
  const auto packets = cluster_results(kSendSpacing);
  EXPECT_FALSE(estimator.on_feedback(std::span(packets).first(6)));
  const auto result = estimator.on_feedback(std::span(packets).subspan(6));
  ASSERT_TRUE(result && result->bitrate_bps);
  EXPECT_NEAR(*result->bitrate_bps, 1'000'000, 1);
}

TEST(ProbeBitrateEstimator, WaitsUntilClusterIsFullySent) {
  ProbeBitrateEstimator estimator;
  estimator.on_cluster_started(kCluster);
  for (int i = 0; i < 4; ++i) estimator.on_packet_sent(kCluster.id, kSize);  // 2400 of 6000 octets
  const auto packets = cluster_results(kSendSpacing);
  EXPECT_FALSE(estimator.on_feedback(std::span(packets).first(4)));
}

TEST(ProbeBitrateEstimator, ReceiveFasterThanTwiceSendIsNotMeasurable) {
  auto estimator = started();
  const auto result = estimator.on_feedback(cluster_results(1ms));  // 4.8 Mbit/s from a 1 Mbit/s sender
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->bitrate_bps);
  EXPECT_EQ(estimator.counters().invalid_results, 1U);
}

TEST(ProbeBitrateEstimator, TooFewReceivedIsNotMeasurable) {
  auto estimator = started();
  auto packets = cluster_results(kSendSpacing);
  for (std::size_t i = 0; i < 7; ++i) packets[i].arrival.reset();  // 3 received, 80 % of 5 is 4
  const auto result = estimator.on_feedback(packets);
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->bitrate_bps);
}

TEST(ProbeBitrateEstimator, IgnoresPacketsOfUnknownClusters) {
  auto estimator = started();
  estimator.on_packet_sent(99, kSize);
  EXPECT_EQ(estimator.counters().packets_for_unknown_clusters, 1U);
  EXPECT_FALSE(estimator.on_feedback(cluster_results(kSendSpacing, 99)));
}

TEST(ProbeBitrateEstimator, NewClustersReplaceTheOldestBeyondItsTable) {
  ProbeBitrateEstimator estimator;
  for (std::uint32_t id = 1; id <= ProbeBitrateEstimator::kMaxClusters + 1; ++id) {
    estimator.on_cluster_started({.id = id, .bitrate_bps = 1'000'000, .bytes = 600, .min_packets = 1});
  }
  estimator.on_packet_sent(1, kSize);  // cluster 1 was replaced
  EXPECT_EQ(estimator.counters().packets_for_unknown_clusters, 1U);
  estimator.on_packet_sent(2, kSize);
  EXPECT_EQ(estimator.counters().packets_for_unknown_clusters, 1U);
}

}  // namespace probe_bitrate_estimator_test
}  // namespace chorus::sfu::bwe
