// SendHistory: consecutive transport-wide numbers that wrap at 16 bits, unwrapping of reported
// numbers against the newest sent, and forgetting by ring capacity and by age.
#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>

#include "sfu/bwe/send_history.hpp"

namespace chorus::sfu::bwe {
namespace send_history_test {

using namespace std::chrono_literals;

const Timestamp kT0{10s};

TEST(SendHistory, NumbersPacketsConsecutivelyAndWrapsAtSixteenBits) {
  SendHistory history(16);
  EXPECT_FALSE(history.newest());
  for (int i = 0; i < 65536; ++i)
    ASSERT_EQ(history.on_packet_sent(kT0, 100, std::nullopt), static_cast<std::uint16_t>(i));
  EXPECT_EQ(history.on_packet_sent(kT0, 100, std::nullopt), 0);
  EXPECT_EQ(history.newest(), 65536);
}

TEST(SendHistory, UnwrapsReportedNumbersAgainstNewestSent) {
  SendHistory history(16);
  for (int i = 0; i < 65540; ++i) history.on_packet_sent(kT0, 100, std::nullopt);  // newest: 65539 (16-bit 3)
  EXPECT_EQ(history.unwrap(3), 65539);
  EXPECT_EQ(history.unwrap(65535), 65535);  // before the wrap
  EXPECT_EQ(history.unwrap(65524), 65524);  // the oldest the ring still holds
  EXPECT_FALSE(history.unwrap(65523));      // overwritten
  EXPECT_FALSE(history.unwrap(4));          // never sent: ahead of the newest
}

TEST(SendHistory, UnwrapRefusesNumbersBeforeTheFirstPacket) {
  SendHistory history(16);
  EXPECT_FALSE(history.unwrap(0));
  history.on_packet_sent(kT0, 100, std::nullopt);
  EXPECT_EQ(history.unwrap(0), 0);
  EXPECT_FALSE(history.unwrap(65535));  // would be -1
}

TEST(SendHistory, FindsSendTimeSizeAndProbeCluster) {
  SendHistory history;
  history.on_packet_sent(kT0, 1200, std::nullopt);
  history.on_packet_sent(kT0 + 5ms, 300, 7U);
  const SentPacket* probe = history.find(1, kT0 + 100ms);
  ASSERT_NE(probe, nullptr);
  EXPECT_EQ(probe->sequence, 1);
  EXPECT_EQ(probe->send_time, kT0 + 5ms);
  EXPECT_EQ(probe->size, 300U);
  EXPECT_EQ(probe->probe_cluster, 7U);
  EXPECT_FALSE(probe->reported);
  EXPECT_EQ(history.find(2, kT0), nullptr);
  EXPECT_EQ(history.find(-1, kT0), nullptr);
}

TEST(SendHistory, ForgetsOverwrittenAndTooOldPackets) {
  SendHistory history(4, 2000ms);
  for (int i = 0; i < 6; ++i) history.on_packet_sent(kT0 + i * 1ms, 100, std::nullopt);
  EXPECT_EQ(history.find(1, kT0 + 10ms), nullptr);  // the ring holds 2..5
  EXPECT_NE(history.find(2, kT0 + 10ms), nullptr);
  EXPECT_NE(history.find(5, kT0 + 2005ms), nullptr);
  EXPECT_EQ(history.find(5, kT0 + 2006ms), nullptr);  // sent more than 2 s ago
}

TEST(SendHistory, RejectsUnusableConfiguration) {
  EXPECT_THROW(SendHistory(0), std::invalid_argument);
  EXPECT_THROW(SendHistory(32769), std::invalid_argument);
  EXPECT_THROW(SendHistory(16, 0ms), std::invalid_argument);
}

}  // namespace send_history_test
}  // namespace chorus::sfu::bwe
