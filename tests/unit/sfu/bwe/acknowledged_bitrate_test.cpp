// AcknowledgedBitrate: received bytes over their arrival span on the receiver's clock, within a
// sliding window; lost packets do not count; too little data gives no estimate.
#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <vector>

#include "sfu/bwe/acknowledged_bitrate.hpp"

namespace chorus::sfu::bwe {
namespace acknowledged_bitrate_test {

using namespace std::chrono_literals;

const Timestamp kT0{10s};

// `count` packets of `size` octets arriving every `spacing` from `start`.
std::vector<PacketResult> arrivals(RemoteTime start, int count, std::chrono::microseconds spacing,
                                   std::size_t size = 1000) {
  std::vector<PacketResult> packets;
  for (int i = 0; i < count; ++i) packets.push_back({i, kT0, size, std::nullopt, start + i * spacing});
  return packets;
}

TEST(AcknowledgedBitrate, MeasuresRateFromArrivalTimes) {
  AcknowledgedBitrate acked;
  acked.on_packets(arrivals(0ms, 31, 10ms));  // 1000 octets every 10 ms: 800 kbit/s
  ASSERT_TRUE(acked.bitrate_bps());
  EXPECT_NEAR(*acked.bitrate_bps(), 800'000, 1);
}

TEST(AcknowledgedBitrate, LostPacketsDoNotCount) {
  AcknowledgedBitrate acked;
  auto packets = arrivals(0ms, 31, 10ms);
  for (std::size_t i = 1; i < packets.size(); i += 2) packets[i].arrival.reset();  // every other one lost
  acked.on_packets(packets);
  EXPECT_NEAR(*acked.bitrate_bps(), 400'000, 1);
}

TEST(AcknowledgedBitrate, FollowsRateChangeWithinWindow) {
  AcknowledgedBitrate acked(350ms);
  acked.on_packets(arrivals(0ms, 100, 10ms));    // 800 kbit/s for a second
  acked.on_packets(arrivals(1000ms, 41, 20ms));  // then 400 kbit/s for 800 ms
  EXPECT_NEAR(*acked.bitrate_bps(), 400'000, 1);
}

TEST(AcknowledgedBitrate, NoEstimateFromTooLittle) {
  AcknowledgedBitrate acked;
  EXPECT_FALSE(acked.bitrate_bps());
  acked.on_packets(arrivals(0ms, 1, 10ms));
  EXPECT_FALSE(acked.bitrate_bps());
  acked.on_packets(arrivals(10ms, 3, 10ms));  // a 30 ms span
  EXPECT_FALSE(acked.bitrate_bps());
}

TEST(AcknowledgedBitrate, RingCapacityBoundsWhatIsKept) {
  AcknowledgedBitrate acked(1000ms, 8);
  acked.on_packets(arrivals(0ms, 200, 10ms, 1000));
  acked.on_packets(arrivals(2000ms, 8, 10ms, 2000));  // the last 8 only: 1.6 Mbit/s
  EXPECT_NEAR(*acked.bitrate_bps(), 1'600'000, 1);
}

TEST(AcknowledgedBitrate, RejectsUnusableConfiguration) {
  EXPECT_THROW(AcknowledgedBitrate(350ms, 0), std::invalid_argument);
  EXPECT_THROW(AcknowledgedBitrate(10ms), std::invalid_argument);
}

}  // namespace acknowledged_bitrate_test
}  // namespace chorus::sfu::bwe
