// InterArrival: send-time groups of 5 ms, the delay variation between consecutive groups' last
// packets, bursts released by a draining queue folded into one group (draft-ietf-rmcat-gcc-02
// §5.2), reordered packets ignored and a receiver clock jump restarting the grouping.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>

#include "sfu/bwe/inter_arrival.hpp"

namespace chorus::sfu::bwe {
namespace inter_arrival_test {

using namespace std::chrono_literals;

const Timestamp kT0{10s};

std::optional<GroupDelta> feed(InterArrival& groups, std::chrono::milliseconds send, std::chrono::microseconds arrival,
                               std::size_t size = 100) {
  return groups.on_packet(kT0 + send, arrival, size);
}

TEST(InterArrival, MeasuresDelayVariationBetweenFiveMillisecondGroups) {
  InterArrival groups;
  EXPECT_FALSE(feed(groups, 0ms, 10ms));
  EXPECT_FALSE(feed(groups, 2ms, 12ms));
  EXPECT_FALSE(feed(groups, 4ms, 14ms));        // group A: sent 0..4 ms
  EXPECT_FALSE(feed(groups, 20ms, 30ms));       // opens B: no delta yet, A has no predecessor
  EXPECT_FALSE(feed(groups, 21ms, 34ms));       // B's last packet queued 3 ms longer
  const auto delta = feed(groups, 40ms, 50ms);  // opens C: delta B − A
  ASSERT_TRUE(delta);
  EXPECT_EQ(delta->send_delta, 17ms);     // 21 − 4
  EXPECT_EQ(delta->arrival_delta, 20ms);  // 34 − 14: +3 ms of delay variation
  EXPECT_EQ(delta->size_delta, -100);     // two packets against three
  EXPECT_EQ(delta->arrival, 34ms);
}

TEST(InterArrival, FoldsBurstReleasedByDrainingQueueIntoOneGroup) {
  InterArrival groups;
  EXPECT_FALSE(feed(groups, 0ms, 100ms));
  // Sent 20 ms later, arrives 2 ms later: the queue released both at once (§5.2), same group.
  EXPECT_FALSE(feed(groups, 20ms, 102ms));
  EXPECT_FALSE(feed(groups, 40ms, 150ms));
  const auto delta = feed(groups, 60ms, 170ms);
  ASSERT_TRUE(delta);
  EXPECT_EQ(delta->send_delta, 20ms);  // 40 − 20: the burst's last packet
  EXPECT_EQ(delta->arrival_delta, 48ms);
}

TEST(InterArrival, IgnoresPacketSentBeforeCurrentGroup) {
  InterArrival groups;
  feed(groups, 0ms, 10ms);
  feed(groups, 20ms, 30ms);
  EXPECT_FALSE(feed(groups, 10ms, 31ms));
  EXPECT_EQ(groups.counters().reordered_packets, 1U);
  const auto delta = feed(groups, 40ms, 50ms);
  ASSERT_TRUE(delta);
  EXPECT_EQ(delta->send_delta, 20ms);
}

TEST(InterArrival, RestartsWhenReceiverClockJumps) {
  InterArrival groups;
  feed(groups, 0ms, 10ms);
  feed(groups, 20ms, 30ms);
  EXPECT_TRUE(feed(groups, 40ms, 10s));          // B − A is still sound; C arrives 10 s late
  EXPECT_FALSE(feed(groups, 60ms, 10s + 20ms));  // C − B spans the jump: everything before is dropped
  EXPECT_EQ(groups.counters().resets, 1U);
  EXPECT_FALSE(feed(groups, 80ms, 10s + 40ms));  // a fresh start needs two groups behind it again
  const auto delta = feed(groups, 100ms, 10s + 60ms);
  ASSERT_TRUE(delta);
  EXPECT_EQ(delta->send_delta, 20ms);
  EXPECT_EQ(delta->arrival_delta, 20ms);
}

}  // namespace inter_arrival_test
}  // namespace chorus::sfu::bwe
