// TransportFeedbackAdapter: transport-cc reports matched to what we sent across the 16-bit wrap,
// arrivals rebuilt from the reference time and deltas (draft-holmer-rmcat-transport-wide-cc-
// extensions-01 §3.1), repeated reports and forgotten packets skipped, the 24-bit reference time
// unwrapped between feedbacks.
#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "media/rtcp/transport_cc.hpp"
#include "sfu/bwe/send_history.hpp"
#include "sfu/bwe/transport_feedback_adapter.hpp"

namespace chorus::sfu::bwe {
namespace transport_feedback_adapter_test {

using namespace std::chrono_literals;
using media::rtcp::TransportCc;
using media::rtcp::TransportCcPacket;
using media::rtcp::TransportCcStatus;

const Timestamp kT0{10s};

struct Report {
  bool received;
  std::chrono::microseconds delta{0};
};

TransportCc feedback(std::uint16_t base, std::int32_t reference_time, const std::vector<Report>& reports) {
  TransportCc fb{1, 2, base, reference_time, 0, {}};
  for (std::size_t i = 0; i < reports.size(); ++i) {
    const auto status = !reports[i].received                                 ? TransportCcStatus::kNotReceived
                        : reports[i].delta >= 0us && reports[i].delta < 64ms ? TransportCcStatus::kReceivedSmallDelta
                                                                             : TransportCcStatus::kReceivedLargeDelta;
    fb.packets.push_back({static_cast<std::uint16_t>(base + i), status, reports[i].delta});
  }
  return fb;
}

TEST(TransportFeedbackAdapter, MatchesReportsAcrossWrapToSendTimesSizesAndArrivals) {
  SendHistory history;
  for (int i = 0; i < 65534; ++i) history.on_packet_sent(kT0, 100, std::nullopt);
  history.on_packet_sent(kT0 + 1ms, 1001, std::nullopt);  // 65534
  history.on_packet_sent(kT0 + 2ms, 1002, std::nullopt);  // 65535
  history.on_packet_sent(kT0 + 3ms, 1003, 4U);            // 0 (65536)
  history.on_packet_sent(kT0 + 4ms, 1004, std::nullopt);  // 1 (65537)

  TransportFeedbackAdapter adapter;
  const auto batch = adapter.on_feedback(feedback(65534, 100, {{true, 1ms}, {false}, {true, 2ms}, {true, -500us}}),
                                         history, kT0 + 60ms);
  ASSERT_TRUE(batch);
  ASSERT_EQ(batch->packets.size(), 4U);
  EXPECT_EQ(batch->received, 3U);
  EXPECT_EQ(batch->lost, 1U);
  const RemoteTime reference = 100 * 64ms;
  EXPECT_EQ(batch->packets[0].sequence, 65534);
  EXPECT_EQ(batch->packets[0].size, 1001U);
  EXPECT_EQ(batch->packets[0].send_time, kT0 + 1ms);
  EXPECT_EQ(batch->packets[0].arrival, reference + 1ms);
  EXPECT_FALSE(batch->packets[1].received());
  EXPECT_EQ(batch->packets[2].sequence, 65536);
  EXPECT_EQ(batch->packets[2].probe_cluster, 4U);
  EXPECT_EQ(batch->packets[2].arrival, reference + 3ms);
  EXPECT_EQ(batch->packets[3].arrival, reference + 2500us);  // reordered: a negative delta
  EXPECT_EQ(batch->rtt, 56ms);                               // now minus the newest acked packet's send time
}

TEST(TransportFeedbackAdapter, ReportsEachPacketReceivedOnceAndLossOnce) {
  SendHistory history;
  for (int i = 0; i < 3; ++i) history.on_packet_sent(kT0 + i * 1ms, 500, std::nullopt);
  TransportFeedbackAdapter adapter;
  ASSERT_TRUE(adapter.on_feedback(feedback(0, 0, {{true, 1ms}, {false}}), history, kT0 + 50ms));

  // An overlapping feedback: 0 again and 1 lost again are skipped, 2 is new.
  auto batch = adapter.on_feedback(feedback(0, 0, {{true, 1ms}, {false}, {true, 3ms}}), history, kT0 + 100ms);
  ASSERT_TRUE(batch);
  ASSERT_EQ(batch->packets.size(), 1U);
  EXPECT_EQ(batch->packets[0].sequence, 2);
  EXPECT_EQ(adapter.counters().duplicate_reports, 2U);

  // 1 reported received after all (it was late): it comes through once.
  batch = adapter.on_feedback(feedback(1, 0, {{true, 9ms}}), history, kT0 + 150ms);
  ASSERT_TRUE(batch);
  ASSERT_EQ(batch->packets.size(), 1U);
  EXPECT_TRUE(batch->packets[0].received());
  EXPECT_FALSE(adapter.on_feedback(feedback(1, 0, {{true, 9ms}}), history, kT0 + 200ms));
}

TEST(TransportFeedbackAdapter, SkipsPacketsNeverSentOrForgotten) {
  SendHistory history(8, 1000ms);
  for (int i = 0; i < 20; ++i) history.on_packet_sent(kT0, 500, std::nullopt);
  TransportFeedbackAdapter adapter;
  EXPECT_FALSE(adapter.on_feedback(feedback(100, 0, {{true, 1ms}}), history, kT0));      // ahead of the newest
  EXPECT_FALSE(adapter.on_feedback(feedback(2, 0, {{true, 1ms}}), history, kT0));        // overwritten
  EXPECT_FALSE(adapter.on_feedback(feedback(19, 0, {{true, 1ms}}), history, kT0 + 2s));  // too old
  EXPECT_EQ(adapter.counters().unknown_packets, 3U);
  EXPECT_EQ(adapter.counters().useless_feedbacks, 3U);
}

TEST(TransportFeedbackAdapter, DeltasOfForgottenPacketsStillChainTheArrivals) {
  SendHistory history(4);
  for (int i = 0; i < 6; ++i) history.on_packet_sent(kT0, 500, std::nullopt);  // the ring holds 2..5
  TransportFeedbackAdapter adapter;
  const auto batch = adapter.on_feedback(feedback(1, 0, {{true, 5ms}, {true, 1ms}}), history, kT0);
  ASSERT_TRUE(batch);
  ASSERT_EQ(batch->packets.size(), 1U);
  EXPECT_EQ(batch->packets[0].arrival, 6ms);
}

TEST(TransportFeedbackAdapter, UnwrapsTwentyFourBitReferenceTimeBetweenFeedbacks) {
  SendHistory history;
  for (int i = 0; i < 2; ++i) history.on_packet_sent(kT0, 500, std::nullopt);
  TransportFeedbackAdapter adapter;
  const auto first = adapter.on_feedback(feedback(0, -1, {{true, 0ms}}), history, kT0);  // 0xFFFFFF
  ASSERT_TRUE(first);
  const RemoteTime before_wrap = *first->packets[0].arrival;
  const auto second = adapter.on_feedback(feedback(1, 0, {{true, 0ms}}), history, kT0);  // 0x000000
  ASSERT_TRUE(second);
  EXPECT_EQ(*second->packets[0].arrival - before_wrap, 64ms);
}

}  // namespace transport_feedback_adapter_test
}  // namespace chorus::sfu::bwe
