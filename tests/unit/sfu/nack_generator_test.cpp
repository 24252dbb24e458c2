// NackGenerator: gaps become missing sequence numbers (across the 16-bit wrap), NACKed at once,
// again once per RTT (with a floor) at most max_retries times, given up after max_age, forgotten
// on arrival; a gap beyond the bound or a full set asks for a keyframe. pack_nack_items and
// write_generic_nack produce RFC 4585 §6.2.1 FCI that media/rtcp's GenericNack parses back.
#include "sfu/nack_generator.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <vector>

#include "media/rtcp/rtcp_header.hpp"

namespace chorus::sfu {
namespace nack_generator_test {

using namespace std::chrono_literals;
using TimePoint = NackGenerator::TimePoint;

const TimePoint kStart = TimePoint{} + 100s;

std::vector<std::uint16_t> collect(NackGenerator& generator, TimePoint now, std::chrono::milliseconds rtt = 50ms,
                                   std::size_t room = 64) {
  std::vector<std::uint16_t> out(room);
  out.resize(generator.collect(now, rtt, out));
  return out;
}

TEST(NackGenerator, InOrderPacketsLeaveNothingMissing) {
  NackGenerator generator{NackGeneratorConfig{}};
  for (std::uint16_t sequence = 65530; sequence != 5; ++sequence) {
    EXPECT_EQ(generator.on_packet(sequence, false, kStart), NackEvent::kInOrder) << sequence;
  }
  EXPECT_EQ(generator.missing_count(), 0u);
  EXPECT_TRUE(collect(generator, kStart + 1s).empty());
}

TEST(NackGenerator, GapAcrossTheWrapIsNackedAtOnce) {
  NackGenerator generator{NackGeneratorConfig{}};
  generator.on_packet(65533, false, kStart);
  EXPECT_EQ(generator.on_packet(2, false, kStart), NackEvent::kGap);  // 65534, 65535, 0, 1 missing
  EXPECT_EQ(generator.missing_count(), 4u);
  EXPECT_TRUE(generator.is_missing(65535));
  EXPECT_FALSE(generator.is_missing(2));
  EXPECT_EQ(collect(generator, kStart), (std::vector<std::uint16_t>{65534, 65535, 0, 1}));
  EXPECT_EQ(generator.counters().missing, 4u);
  EXPECT_EQ(generator.counters().nacks_sent, 4u);
}

TEST(NackGenerator, RetriesOncePerRttWithAFloor) {
  NackGenerator generator{NackGeneratorConfig{.min_retry_interval = 20ms}};
  generator.on_packet(10, false, kStart);
  generator.on_packet(12, false, kStart);
  EXPECT_EQ(collect(generator, kStart, 100ms), (std::vector<std::uint16_t>{11}));
  EXPECT_TRUE(collect(generator, kStart + 99ms, 100ms).empty());
  EXPECT_EQ(collect(generator, kStart + 100ms, 100ms), (std::vector<std::uint16_t>{11}));
  // An RTT below the floor: the floor decides.
  EXPECT_TRUE(collect(generator, kStart + 110ms, 1ms).empty());
  EXPECT_EQ(collect(generator, kStart + 120ms, 1ms), (std::vector<std::uint16_t>{11}));
}

TEST(NackGenerator, GivesUpAfterMaxRetries) {
  NackGenerator generator{NackGeneratorConfig{.max_retries = 3, .max_age = 10s}};
  generator.on_packet(0, false, kStart);
  generator.on_packet(2, false, kStart);
  TimePoint now = kStart;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(collect(generator, now), (std::vector<std::uint16_t>{1})) << i;
    now += 50ms;
  }
  EXPECT_TRUE(collect(generator, now).empty());
  EXPECT_EQ(generator.missing_count(), 0u);
  EXPECT_EQ(generator.counters().given_up_retries, 1u);
  EXPECT_EQ(generator.counters().nacks_sent, 3u);
}

TEST(NackGenerator, GivesUpAfterMaxAge) {
  NackGenerator generator{NackGeneratorConfig{.max_age = 500ms}};
  generator.on_packet(0, false, kStart);
  generator.on_packet(2, false, kStart);
  EXPECT_EQ(collect(generator, kStart + 500ms).size(), 1u);
  EXPECT_TRUE(collect(generator, kStart + 501ms, 1ms).empty());
  EXPECT_EQ(generator.counters().given_up_age, 1u);
  EXPECT_EQ(generator.missing_count(), 0u);
}

TEST(NackGenerator, ForgetsLateAndRetransmittedArrivals) {
  NackGenerator generator{NackGeneratorConfig{}};
  generator.on_packet(100, false, kStart);
  generator.on_packet(105, false, kStart);                                          // 101..104 missing
  EXPECT_EQ(generator.on_packet(102, false, kStart + 1ms), NackEvent::kRecovered);  // late
  EXPECT_EQ(collect(generator, kStart + 2ms), (std::vector<std::uint16_t>{101, 103, 104}));
  EXPECT_EQ(generator.on_packet(101, false, kStart + 60ms), NackEvent::kRecovered);  // its RTX
  EXPECT_EQ(generator.on_packet(101, false, kStart + 61ms), NackEvent::kDuplicate);
  EXPECT_EQ(generator.on_packet(105, false, kStart + 61ms), NackEvent::kDuplicate);
  EXPECT_EQ(generator.on_packet(90, false, kStart + 61ms), NackEvent::kDuplicate);  // older than anything tracked
  EXPECT_EQ(collect(generator, kStart + 70ms), (std::vector<std::uint16_t>{103, 104}));
  EXPECT_EQ(generator.counters().recovered, 2u);
  EXPECT_EQ(generator.missing_count(), 2u);
}

TEST(NackGenerator, WaitsTheReorderDelayBeforeTheFirstNack) {
  NackGenerator generator{NackGeneratorConfig{.reorder_delay = 10ms}};
  generator.on_packet(1, false, kStart);
  generator.on_packet(3, false, kStart);
  EXPECT_TRUE(collect(generator, kStart + 9ms).empty());
  EXPECT_EQ(collect(generator, kStart + 10ms), (std::vector<std::uint16_t>{2}));
}

TEST(NackGenerator, HandsOutBatchesNoLargerThanAsked) {
  NackGenerator generator{NackGeneratorConfig{}};
  generator.on_packet(0, false, kStart);
  generator.on_packet(11, false, kStart);  // 1..10 missing
  EXPECT_EQ(collect(generator, kStart, 50ms, 4), (std::vector<std::uint16_t>{1, 2, 3, 4}));
  EXPECT_EQ(collect(generator, kStart, 50ms, 4), (std::vector<std::uint16_t>{5, 6, 7, 8}));
  EXPECT_EQ(collect(generator, kStart, 50ms, 4), (std::vector<std::uint16_t>{9, 10}));
}

TEST(NackGenerator, GapLargerThanTheBoundAsksForAKeyframe) {
  NackGenerator generator{NackGeneratorConfig{.max_missing = 100}};
  generator.on_packet(0, false, kStart);
  generator.on_packet(5, false, kStart);
  EXPECT_EQ(generator.on_packet(107, false, kStart), NackEvent::kKeyframeNeeded);  // 101 missing
  EXPECT_EQ(generator.missing_count(), 0u);
  EXPECT_EQ(generator.counters().keyframe_requests, 1u);
  EXPECT_EQ(generator.on_packet(108, false, kStart), NackEvent::kInOrder);  // tracking from 107 on
  EXPECT_EQ(generator.on_packet(209, false, kStart), NackEvent::kGap);      // a gap of exactly the bound fits
  EXPECT_EQ(generator.missing_count(), 100u);
}

TEST(NackGenerator, FullSetDropsWhatPrecedesTheLastKeyframe) {
  NackGenerator generator{NackGeneratorConfig{.max_missing = 10}};
  generator.on_packet(0, false, kStart);
  generator.on_packet(7, false, kStart);                               // 1..6 missing
  generator.on_packet(8, true, kStart);                                // a keyframe starts at 8
  EXPECT_EQ(generator.on_packet(14, false, kStart), NackEvent::kGap);  // 9..13 need room: 1..6 go
  EXPECT_EQ(generator.missing_count(), 5u);
  EXPECT_EQ(generator.counters().dropped_before_keyframe, 6u);
  EXPECT_EQ(collect(generator, kStart), (std::vector<std::uint16_t>{9, 10, 11, 12, 13}));
  // Without a keyframe to fall back on, a full set resets and asks for one.
  EXPECT_EQ(generator.on_packet(21, false, kStart), NackEvent::kKeyframeNeeded);  // 15..20 do not fit beside 9..13
  EXPECT_EQ(generator.missing_count(), 0u);
}

TEST(NackGenerator, SenderRestartFarBehindStartsOver) {
  NackGenerator generator{NackGeneratorConfig{}};
  generator.on_packet(40000, false, kStart);
  generator.on_packet(40002, false, kStart);
  EXPECT_EQ(generator.on_packet(20000, true, kStart), NackEvent::kKeyframeNeeded);
  EXPECT_EQ(generator.missing_count(), 0u);
  EXPECT_EQ(generator.on_packet(20001, false, kStart), NackEvent::kInOrder);
}

TEST(NackGenerator, RecoveryAfterCompactionStillFindsTheRest) {
  NackGenerator generator{NackGeneratorConfig{.max_missing = 8}};
  generator.on_packet(0, false, kStart);
  generator.on_packet(7, false, kStart);  // 1..6 missing
  EXPECT_EQ(generator.on_packet(3, false, kStart), NackEvent::kRecovered);
  EXPECT_EQ(generator.on_packet(5, false, kStart), NackEvent::kRecovered);
  EXPECT_EQ(generator.on_packet(11, false, kStart), NackEvent::kGap);  // 8..10 fit after compaction
  EXPECT_EQ(generator.missing_count(), 7u);
  EXPECT_EQ(generator.on_packet(6, false, kStart), NackEvent::kRecovered);
  EXPECT_EQ(collect(generator, kStart), (std::vector<std::uint16_t>{1, 2, 4, 8, 9, 10}));
}

TEST(NackPacking, PacksPidAndBlpPerRfc4585) {
  const std::vector<std::uint16_t> lost = {65534, 65535, 0, 14, 15, 40, 40};
  std::array<media::rtcp::NackItem, 4> items{};
  const auto packing = pack_nack_items(lost, items);
  ASSERT_EQ(packing.items, 3u);
  EXPECT_EQ(packing.consumed, lost.size());
  // 65535, 0 and 14 are 1, 2 and 16 past 65534: BLP bits 0, 1 and 15. 15 is 17 past: a new PID.
  EXPECT_EQ(items[0], (media::rtcp::NackItem{65534, 0x8003}));
  EXPECT_EQ(items[1], (media::rtcp::NackItem{15, 0}));
  EXPECT_EQ(items[2], (media::rtcp::NackItem{40, 0}));  // the repeated 40 folded in
}

TEST(NackPacking, StopsWhenTheItemsRunOut) {
  const std::vector<std::uint16_t> lost = {1, 2, 30, 31, 60};
  std::array<media::rtcp::NackItem, 2> items{};
  const auto packing = pack_nack_items(lost, items);
  EXPECT_EQ(packing.items, 2u);
  EXPECT_EQ(packing.consumed, 4u);  // 60 waits for the next packet
  EXPECT_EQ(items[1], (media::rtcp::NackItem{30, 0x0001}));
}

TEST(NackPacking, WritesAGenericNackThatMediaRtcpParses) {
  const std::array<media::rtcp::NackItem, 2> items = {{{65534, 0x8003}, {15, 0}}};
  std::array<std::uint8_t, 20> out{};
  const auto size = write_generic_nack(out, {.sender_ssrc = 0x11, .media_ssrc = 0x22}, items);
  ASSERT_EQ(size, 20u);
  constexpr std::array<std::uint8_t, 20> kExpected = {
      0x81, 0xCD, 0x00, 0x04,  // V=2 FMT=1 (generic NACK), PT=205 (RTPFB), length 4 words
      0x00, 0x00, 0x00, 0x11,  // SSRC of packet sender
      0x00, 0x00, 0x00, 0x22,  // SSRC of media source
      0xFF, 0xFE, 0x80, 0x03,  // PID 65534, BLP
      0x00, 0x0F, 0x00, 0x00,  // PID 15, BLP 0
  };
  EXPECT_EQ(out, kExpected);
  const auto header = media::rtcp::RtcpHeader::parse(out);
  ASSERT_TRUE(header);
  const auto parsed = media::rtcp::GenericNack::parse(*header);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->media_ssrc, 0x22u);
  EXPECT_EQ(parsed->lost_sequence_numbers(), (std::vector<std::uint16_t>{65534, 65535, 0, 14, 15}));
  std::array<std::uint8_t, 19> too_small{};
  EXPECT_FALSE(write_generic_nack(too_small, {}, items));
  EXPECT_FALSE(write_generic_nack(out, {}, {}));
}

}  // namespace nack_generator_test
}  // namespace chorus::sfu
