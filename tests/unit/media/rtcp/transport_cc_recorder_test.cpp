// TransportCcRecorder: what it writes parses back with TransportCc::parse to the recorded
// arrivals (250 µs resolution) across the 16-bit wrap, reordering, duplicates and losses;
// the window's bounds, MTU splitting, delta-range splitting, the 8-bit feedback count and the
// 24-bit reference time (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <vector>

#include "media/rtcp/rtcp_header.hpp"
#include "media/rtcp/transport_cc.hpp"
#include "media/rtcp/transport_cc_recorder.hpp"

namespace chorus::media::rtcp {
namespace transport_cc_recorder_test {

using namespace std::chrono_literals;
using Clock = TransportCcRecorder::Clock;

const Clock::time_point kT0{1000s};
constexpr std::uint32_t kSender = 0x11111111;
constexpr std::uint32_t kMedia = 0x22222222;

// Every transport-cc packet of one build_feedback() output, in order.
std::vector<TransportCc> parse_all(std::span<const std::uint8_t> bytes) {
  std::vector<TransportCc> packets;
  const auto compound = CompoundView::parse(bytes);
  if (!compound) return packets;
  for (const RtcpHeader header : *compound) {
    auto feedback = TransportCc::parse(header);
    if (feedback) packets.push_back(std::move(*feedback));
  }
  return packets;
}

std::vector<TransportCc> build(TransportCcRecorder& recorder, Clock::time_point now, std::size_t buffer = 1500) {
  std::vector<std::uint8_t> out(buffer);
  const auto size = recorder.build_feedback(now, kSender, kMedia, out);
  out.resize(size);
  return parse_all(out);
}

// What a sender reconstructs: each reported sequence number's arrival (reference time + the sum
// of deltas), nullopt for "not received".
std::map<std::uint16_t, std::optional<std::chrono::microseconds>> arrivals(const TransportCc& feedback) {
  std::map<std::uint16_t, std::optional<std::chrono::microseconds>> result;
  std::chrono::microseconds at = feedback.reference_time_ms();
  for (const auto& packet : feedback.packets) {
    if (packet.received()) {
      at += packet.receive_delta;
      result[packet.sequence_number] = at;
    } else {
      result[packet.sequence_number] = std::nullopt;
    }
  }
  return result;
}

// The arrival as the wire carries it: 250 µs ticks of the arrival clock.
std::chrono::microseconds on_wire(Clock::time_point arrival) {
  return std::chrono::floor<std::chrono::duration<std::int64_t, std::ratio<1, 4000>>>(arrival.time_since_epoch());
}

TEST(TransportCcRecorder, RoundTripsArrivalsAcrossWrapWithReorderingAndLoss) {
  TransportCcRecorder recorder;
  // 65533 is lost; 1 arrives before 0 (reordered, so 1's delta is negative: a large delta);
  // 65535 arrives 70 ms after 65534 (more than a small delta holds).
  const std::vector<std::pair<std::uint16_t, Clock::time_point>> sent = {
      {65530, kT0 + 1'000us}, {65531, kT0 + 3'250us},  {65532, kT0 + 3'260us}, {65534, kT0 + 9'999us},
      {65535, kT0 + 80ms},    {1, kT0 + 80ms + 500us}, {0, kT0 + 81ms},        {2, kT0 + 90ms},
  };
  for (const auto& [sequence, arrival] : sent) EXPECT_TRUE(recorder.on_packet(sequence, arrival));

  const auto feedback = build(recorder, kT0 + 100ms);
  ASSERT_EQ(feedback.size(), 1U);
  EXPECT_EQ(feedback[0].sender_ssrc, kSender);
  EXPECT_EQ(feedback[0].media_ssrc, kMedia);
  EXPECT_EQ(feedback[0].base_sequence, 65530);
  EXPECT_EQ(feedback[0].packets.size(), 9U);  // 65530 .. 2 across the wrap
  EXPECT_EQ(feedback[0].feedback_count, 0);
  const auto reported = arrivals(feedback[0]);
  for (const auto& [sequence, arrival] : sent) EXPECT_EQ(reported.at(sequence), on_wire(arrival)) << sequence;
  EXPECT_EQ(reported.at(65533), std::nullopt);
  EXPECT_EQ(feedback[0].packets[7].status, TransportCcStatus::kReceivedLargeDelta);  // 1: negative delta
  EXPECT_EQ(feedback[0].packets[5].status, TransportCcStatus::kReceivedLargeDelta);  // 65535: 70 ms
  EXPECT_FALSE(recorder.has_pending());
}

TEST(TransportCcRecorder, ReportsOnlyWhatArrivedSinceTheLastFeedback) {
  TransportCcRecorder recorder;
  for (std::uint16_t s = 10; s < 15; ++s) recorder.on_packet(s, kT0 + s * 1ms);
  ASSERT_EQ(build(recorder, kT0 + 20ms).size(), 1U);
  EXPECT_TRUE(build(recorder, kT0 + 30ms).empty());  // nothing new: nothing written

  recorder.on_packet(17, kT0 + 40ms);  // 15 and 16 lost
  const auto next = build(recorder, kT0 + 100ms);
  ASSERT_EQ(next.size(), 1U);
  EXPECT_EQ(next[0].base_sequence, 15);
  ASSERT_EQ(next[0].packets.size(), 3U);
  EXPECT_FALSE(next[0].packets[0].received());
  EXPECT_FALSE(next[0].packets[1].received());
  EXPECT_TRUE(next[0].packets[2].received());
  EXPECT_EQ(next[0].feedback_count, 1);
}

TEST(TransportCcRecorder, KeepsFirstArrivalOfDuplicateAndRefusesReportedPackets) {
  TransportCcRecorder recorder;
  EXPECT_TRUE(recorder.on_packet(5, kT0));
  EXPECT_FALSE(recorder.on_packet(5, kT0 + 7ms));
  EXPECT_EQ(recorder.counters().duplicates, 1U);
  const auto feedback = build(recorder, kT0 + 10ms);
  ASSERT_EQ(feedback.size(), 1U);
  EXPECT_EQ(arrivals(feedback[0]).at(5), on_wire(kT0));

  EXPECT_FALSE(recorder.on_packet(5, kT0 + 20ms));  // already reported
  EXPECT_FALSE(recorder.on_packet(4, kT0 + 20ms));  // older than anything reported
  EXPECT_EQ(recorder.counters().too_old, 2U);
  EXPECT_FALSE(recorder.has_pending());
}

TEST(TransportCcRecorder, RefusesPacketFarInThePast) {
  TransportCcRecorder recorder;
  recorder.on_packet(40000, kT0);
  EXPECT_FALSE(recorder.on_packet(10000, kT0 + 1ms));  // 30000 behind: in the past, not ahead
  EXPECT_EQ(recorder.counters().too_old, 1U);
  EXPECT_EQ(build(recorder, kT0 + 2ms).at(0).packets.size(), 1U);
}

TEST(TransportCcRecorder, JumpAheadSlidesBoundedWindowAndCountsEvicted) {
  TransportCcRecorder recorder({.max_pending = 10});
  for (std::uint16_t s = 0; s < 5; ++s) recorder.on_packet(s, kT0 + s * 1ms);
  EXPECT_TRUE(recorder.on_packet(30000, kT0 + 10ms));  // far ahead, but within half the number space
  EXPECT_EQ(recorder.counters().evicted, 5U);
  const auto feedback = build(recorder, kT0 + 20ms);
  ASSERT_EQ(feedback.size(), 1U);
  EXPECT_EQ(feedback[0].base_sequence, 30000 - 9);  // the window's 10 slots end at the new packet
  ASSERT_EQ(feedback[0].packets.size(), 10U);
  EXPECT_TRUE(feedback[0].packets.back().received());
  EXPECT_FALSE(feedback[0].packets.front().received());
}

TEST(TransportCcRecorder, SplitsFeedbackThatWouldExceedMaxPacketSize) {
  TransportCcRecorder recorder({.max_pending = 1000, .max_packet_size = 100});
  std::map<std::uint16_t, Clock::time_point> sent;
  for (std::uint16_t i = 0; i < 600; ++i) {
    const auto sequence = static_cast<std::uint16_t>(65000 + i);
    if (i % 11 == 3) continue;                                       // some losses
    const auto arrival = kT0 + i * 1ms + (i % 5 == 0 ? 70ms : 0ms);  // some large deltas
    sent[sequence] = arrival;
    recorder.on_packet(sequence, arrival);
  }
  std::vector<std::uint8_t> out(4000);
  const auto size = recorder.build_feedback(kT0 + 1s, kSender, kMedia, out);
  const auto feedback = parse_all(std::span(out).first(size));
  ASSERT_GT(feedback.size(), 5U);

  std::uint16_t next = 65000;
  std::size_t reported = 0;
  for (std::size_t i = 0; i < feedback.size(); ++i) {
    EXPECT_EQ(feedback[i].base_sequence, next);
    EXPECT_EQ(feedback[i].feedback_count, i);
    std::vector<std::uint8_t> one(200);
    ASSERT_TRUE(feedback[i].write(one));
    EXPECT_LE(*feedback[i].write(one), 100U);
    for (const auto& [sequence, arrival] : arrivals(feedback[i])) {
      if (sent.contains(sequence))
        EXPECT_EQ(arrival, on_wire(sent[sequence])) << sequence;
      else
        EXPECT_EQ(arrival, std::nullopt) << sequence;
    }
    next = static_cast<std::uint16_t>(next + feedback[i].packets.size());
    reported += feedback[i].packets.size();
  }
  EXPECT_EQ(reported, 600U);  // 65000 .. 65599: the last one was received
  EXPECT_EQ(recorder.counters().feedback_packets, feedback.size());
}

TEST(TransportCcRecorder, StartsNewPacketWhenArrivalGapExceedsLargeDelta) {
  TransportCcRecorder recorder;
  recorder.on_packet(1, kT0);
  recorder.on_packet(2, kT0 + 9s);  // 36000 ticks: beyond a signed 16-bit delta
  const auto feedback = build(recorder, kT0 + 10s);
  ASSERT_EQ(feedback.size(), 2U);
  EXPECT_EQ(feedback[0].base_sequence, 1);
  EXPECT_EQ(feedback[1].base_sequence, 2);
  EXPECT_EQ(arrivals(feedback[0]).at(1), on_wire(kT0));
  EXPECT_EQ(arrivals(feedback[1]).at(2), on_wire(kT0 + 9s));
}

TEST(TransportCcRecorder, FeedbackCountWrapsAtEightBits) {
  TransportCcRecorder recorder;
  for (int i = 0; i < 257; ++i) {
    recorder.on_packet(static_cast<std::uint16_t>(i), kT0 + i * 100ms);
    const auto feedback = build(recorder, kT0 + i * 100ms + 1ms);
    ASSERT_EQ(feedback.size(), 1U);
    EXPECT_EQ(feedback[0].feedback_count, static_cast<std::uint8_t>(i));
  }
  EXPECT_EQ(recorder.feedback_count(), 1);  // 257 mod 256
}

TEST(TransportCcRecorder, ReferenceTimeIsTwentyFourBitsOfSixtyFourMilliseconds) {
  constexpr std::int64_t kWrap = std::int64_t{1} << 24;
  const auto at = [](std::int64_t ticks) { return Clock::time_point{ticks * 64ms} + 10ms; };
  TransportCcRecorder recorder;
  recorder.on_packet(1, at(kWrap + 5));
  EXPECT_EQ(build(recorder, at(kWrap + 6)).at(0).reference_time, 5);
  recorder.on_packet(2, at(kWrap + kWrap / 2));  // top bit set: the field reads negative
  const auto feedback = build(recorder, at(kWrap * 2));
  ASSERT_EQ(feedback.size(), 1U);
  EXPECT_EQ(feedback[0].reference_time, -(kWrap / 2));
  EXPECT_EQ(feedback[0].packets[0].receive_delta, 10ms);  // arrival minus the 64 ms boundary
}

TEST(TransportCcRecorder, KeepsPendingWhenBufferTooSmall) {
  TransportCcRecorder recorder;
  recorder.on_packet(1, kT0);
  std::vector<std::uint8_t> tiny(16);
  EXPECT_EQ(recorder.build_feedback(kT0, kSender, kMedia, tiny), 0U);
  EXPECT_EQ(recorder.counters().buffer_too_small, 1U);
  EXPECT_TRUE(recorder.has_pending());
  EXPECT_EQ(build(recorder, kT0).size(), 1U);
}

TEST(TransportCcRecorder, FeedbackDueAfterIntervalOrHalfWindow) {
  TransportCcRecorder recorder({.max_pending = 10, .interval = 100ms});
  EXPECT_FALSE(recorder.feedback_due(kT0));  // nothing to report
  recorder.on_packet(0, kT0);
  EXPECT_TRUE(recorder.feedback_due(kT0));  // first feedback: at once
  build(recorder, kT0);
  recorder.on_packet(1, kT0 + 10ms);
  EXPECT_FALSE(recorder.feedback_due(kT0 + 50ms));
  EXPECT_TRUE(recorder.feedback_due(kT0 + 100ms));
  for (std::uint16_t s = 2; s <= 5; ++s) recorder.on_packet(s, kT0 + 20ms);
  EXPECT_TRUE(recorder.feedback_due(kT0 + 30ms));  // 5 of 10 slots pending
}

TEST(TransportCcRecorder, RejectsUnusableConfiguration) {
  EXPECT_THROW(TransportCcRecorder({.max_pending = 0}), std::invalid_argument);
  EXPECT_THROW(TransportCcRecorder({.max_pending = 40000}), std::invalid_argument);
  EXPECT_THROW(TransportCcRecorder({.max_packet_size = 20}), std::invalid_argument);
  EXPECT_THROW(TransportCcRecorder({.interval = 0ms}), std::invalid_argument);
}

}  // namespace transport_cc_recorder_test
}  // namespace chorus::media::rtcp
