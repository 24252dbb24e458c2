// Per-stream RTCP statistics: jitter from arrival times (RFC 3550 A.8), loss with gaps and
// duplicates (A.3), sequence wrap and A.1's large-jump rule, LSR/DLSR for the report block, and the
// sender side: §6.4.1 counts, the SR's extrapolated RTP timestamp and RTT from a report block.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <vector>

#include "media/rtcp/stream_statistics.hpp"

namespace chorus::media::rtcp {
namespace stream_statistics_test {

using namespace std::chrono_literals;
using Result = ReceiveStatistics::PacketResult;

const SteadyTime kT0{1000s};
// 2023-11-14T22:13:20.5Z: NTP seconds 1'700'000'000 + 2'208'988'800, fraction one half.
const WallTime kWall{std::chrono::seconds(1'700'000'000) + 500ms};
constexpr std::uint32_t kWallNtpSeconds = 3'908'988'800U;  // 0xE8FE_6F80
constexpr std::uint32_t kAudioRate = 8000;
constexpr std::uint32_t kVideoRate = 90000;

TEST(ReceiveStatistics, JitterFollowsAppendixA8FromArrivalTimes) {
  // 20 ms packets at 8 kHz (160 units); every odd packet arrives 4 ms (32 units) late, so each
  // |D| after the first is 32: J1 = 32/16 = 2, J2 = 2 + (32 - 2)/16 = 3.875, reported as 3.
  ReceiveStatistics stats(0x1234);
  const auto send = [&](std::uint16_t i) {
    const auto arrival = kT0 + i * 20ms + (i % 2 == 1 ? 4ms : 0ms);
    return stats.on_packet(i, 5000 + i * 160U, 160, arrival, kAudioRate);
  };
  EXPECT_EQ(send(0), Result::kAccepted);
  EXPECT_EQ(stats.jitter(), 0U);
  send(1);
  EXPECT_EQ(stats.jitter(), 2U);
  send(2);
  EXPECT_EQ(stats.jitter(), 3U);
  for (std::uint16_t i = 3; i < 200; ++i) send(i);
  EXPECT_EQ(stats.jitter(), 31U);  // converging on 32 from below
  EXPECT_DOUBLE_EQ(stats.snapshot().jitter_ms, 31 * 1000.0 / kAudioRate);
  EXPECT_EQ(stats.report_block(kT0 + 4s).jitter, 31U);
}

TEST(ReceiveStatistics, SteadyArrivalGivesZeroJitterAtVideoRate) {
  ReceiveStatistics stats(1);
  // 30 fps at 90 kHz: 3000 units per 33.333 ms frame; arrival times with nanosecond steps.
  for (std::uint16_t i = 0; i < 300; ++i) {
    const auto arrival = kT0 + std::chrono::nanoseconds(i * 1'000'000'000LL / 30);
    stats.on_packet(i, i * 3000U, 1000, arrival, kVideoRate);
  }
  EXPECT_EQ(stats.jitter(), 0U);  // at most the one-unit truncation of the arrival clock
}

TEST(ReceiveStatistics, LossFractionCountsGapsAndDuplicates) {
  ReceiveStatistics stats(0xABCD);
  // Interval 1: 100..199 with every tenth packet missing: 100 expected, 90 received.
  for (std::uint16_t seq = 100; seq < 200; ++seq) {
    if (seq % 10 != 5) stats.on_packet(seq, seq * 160U, 100, kT0 + seq * 20ms, kAudioRate);
  }
  ReportBlock block = stats.report_block(kT0 + 5s);
  EXPECT_EQ(block.source_ssrc, 0xABCDU);
  EXPECT_EQ(block.fraction_lost, 25);  // 10 / 100 * 256 = 25.6, truncated (A.3)
  EXPECT_EQ(block.cumulative_lost, 10);
  EXPECT_EQ(block.extended_highest_sequence, 199U);
  EXPECT_DOUBLE_EQ(stats.snapshot().fraction_lost, 25 / 256.0);

  // Interval 2: 200..299 all arrive, and 5 of them twice: 105 received for 100 expected.
  for (std::uint16_t seq = 200; seq < 300; ++seq) {
    EXPECT_EQ(stats.on_packet(seq, seq * 160U, 100, kT0 + seq * 20ms, kAudioRate), Result::kAccepted);
    if (seq % 20 == 0) {
      EXPECT_EQ(stats.on_packet(seq, seq * 160U, 100, kT0 + seq * 20ms + 1ms, kAudioRate), Result::kDuplicate);
    }
  }
  // A retransmitted copy arriving late is a duplicate too.
  EXPECT_EQ(stats.on_packet(295, 295 * 160U, 100, kT0 + 7s, kAudioRate), Result::kDuplicate);
  block = stats.report_block(kT0 + 10s);
  EXPECT_EQ(block.fraction_lost, 0);    // more received than expected in the interval
  EXPECT_EQ(block.cumulative_lost, 4);  // 200 expected, 196 received (90 + 100 + 6 copies)
  const ReceiveSnapshot snapshot = stats.snapshot();
  EXPECT_EQ(snapshot.packets, 196U);
  EXPECT_EQ(snapshot.bytes, 19'600U);
  EXPECT_EQ(snapshot.duplicates, 6U);
  EXPECT_EQ(snapshot.cumulative_lost, 4);
  EXPECT_EQ(snapshot.fraction_lost, 0.0);
}

TEST(ReceiveStatistics, LateFirstCopyWithinMisorderIsCountedNotDuplicate) {
  ReceiveStatistics stats(7);
  for (std::uint16_t seq : {10, 11, 13, 14}) stats.on_packet(seq, 0, 10, kT0, kAudioRate);
  EXPECT_EQ(stats.on_packet(12, 0, 10, kT0, kAudioRate), Result::kAccepted);
  EXPECT_EQ(stats.on_packet(12, 0, 10, kT0, kAudioRate), Result::kDuplicate);
  const ReportBlock block = stats.report_block(kT0);
  EXPECT_EQ(block.extended_highest_sequence, 14U);
  EXPECT_EQ(block.cumulative_lost, -1);  // A.3: the duplicate makes the loss negative
}

TEST(ReceiveStatistics, ExtendedSequenceCountsWrapCycles) {
  ReceiveStatistics stats(9);
  // 65530 .. 65535, 0 .. 13: one wrap, so the extended highest is 1 << 16 | 13.
  std::uint16_t seq = 65530;
  for (int i = 0; i < 20; ++i, ++seq) {
    EXPECT_EQ(stats.on_packet(seq, i * 160U, 160, kT0 + i * 20ms, kAudioRate), Result::kAccepted);
  }
  ReportBlock block = stats.report_block(kT0 + 1s);
  EXPECT_EQ(block.extended_highest_sequence, 0x0001000DU);
  EXPECT_EQ(block.cumulative_lost, 0);
  EXPECT_EQ(block.fraction_lost, 0);
}

TEST(ReceiveStatistics, ReorderingAcrossWrapKeepsHighestAndLosesNothing) {
  ReceiveStatistics stats(9);
  for (std::uint16_t seq : {65534, 65535, 1, 0, 2}) {
    EXPECT_EQ(stats.on_packet(seq, 0, 160, kT0, kAudioRate), Result::kAccepted) << seq;
  }
  const ReportBlock block = stats.report_block(kT0);
  EXPECT_EQ(block.extended_highest_sequence, 0x00010002U);
  EXPECT_EQ(block.cumulative_lost, 0);
}

TEST(ReceiveStatistics, LargeJumpIsDroppedUntilTheNextPacketConfirmsIt) {
  ReceiveStatistics stats(5);
  stats.on_packet(10, 0, 100, kT0, kAudioRate);
  stats.on_packet(11, 0, 100, kT0, kAudioRate);
  // A.1: 5000 is MAX_DROPOUT or more ahead: dropped, bad_seq = 5001.
  EXPECT_EQ(stats.on_packet(5000, 0, 100, kT0, kAudioRate), Result::kDropped);
  EXPECT_EQ(stats.on_packet(12, 0, 100, kT0, kAudioRate), Result::kAccepted);  // in order: bad_seq is forgotten
  EXPECT_EQ(stats.on_packet(5001, 0, 100, kT0, kAudioRate), Result::kDropped);
  // 5002 follows 5001: the sender restarted; the sequence and the loss counts start again there.
  EXPECT_EQ(stats.on_packet(5002, 0, 100, kT0, kAudioRate), Result::kAccepted);
  EXPECT_EQ(stats.on_packet(5003, 0, 100, kT0, kAudioRate), Result::kAccepted);
  const ReportBlock block = stats.report_block(kT0);
  EXPECT_EQ(block.extended_highest_sequence, 5003U);
  EXPECT_EQ(block.cumulative_lost, 0);
  EXPECT_EQ(stats.snapshot().packets, 5U);  // the two dropped packets are not counted
  // 200 behind is more than MAX_MISORDER: dropped too.
  EXPECT_EQ(stats.on_packet(4803, 0, 100, kT0, kAudioRate), Result::kDropped);
}

TEST(ReceiveStatistics, ZeroClockRateIsDropped) {
  ReceiveStatistics stats(5);
  EXPECT_EQ(stats.on_packet(1, 0, 100, kT0, 0), Result::kDropped);
  EXPECT_FALSE(stats.received_since_report());
}

TEST(ReceiveStatistics, ReportBlockCarriesLsrAndDelaySinceIt) {
  ReceiveStatistics stats(0x55);
  stats.on_packet(1, 0, 100, kT0, kAudioRate);
  // No SR yet: RFC 3550 §6.4.1 says LSR and DLSR are zero.
  ReportBlock block = stats.report_block(kT0 + 1s);
  EXPECT_EQ(block.last_sr, 0U);
  EXPECT_EQ(block.delay_since_last_sr, 0U);
  // The §6.4.1 example: LSR 0xB705:2000, report 5.25 s after the SR arrived → DLSR 0x0005:4000.
  stats.on_sender_report(0xB7052000U, kT0 + 2s);
  block = stats.report_block(kT0 + 7250ms);
  EXPECT_EQ(block.last_sr, 0xB7052000U);
  EXPECT_EQ(block.delay_since_last_sr, 0x00054000U);
  EXPECT_FALSE(stats.received_since_report());
}

TEST(SendStatistics, CountsAndExtrapolatesTheSenderReportTimestamp) {
  SendStatistics stats(0x5EED, kVideoRate);
  EXPECT_FALSE(stats.sender_report(kT0, kWall));  // no RTP timestamp to map yet
  stats.on_packet_sent(1000, 500, kT0);
  stats.on_packet_sent(4000, 600, kT0 + 33ms);
  stats.on_packet_sent(0xFFFFF000U, 700, kT0 + 66ms);  // the timestamp wraps below
  // 100 ms after the last packet at 90 kHz: 9000 units later, modulo 2^32.
  EXPECT_EQ(stats.rtp_timestamp_at(kT0 + 166ms), 0xFFFFF000U + 9000U);
  const auto report = stats.sender_report(kT0 + 166ms, kWall);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->sender_ssrc, 0x5EEDU);
  EXPECT_EQ(report->ntp_seconds, kWallNtpSeconds);
  EXPECT_EQ(report->ntp_fraction, 0x80000000U);
  EXPECT_EQ(report->rtp_timestamp, 0x00001328U);  // 0xFFFFF000 + 0x2328
  EXPECT_EQ(report->packet_count, 3U);
  EXPECT_EQ(report->octet_count, 1800U);  // payload octets only (§6.4.1)
  EXPECT_TRUE(report->report_blocks.empty());
}

TEST(SendStatistics, RoundTripTimeFromReportBlockOnOurSenderReport) {
  SendStatistics stats(0xA1, kAudioRate);
  stats.on_packet_sent(0, 160, kT0);
  const auto report = stats.sender_report(kT0, kWall);
  ASSERT_TRUE(report);
  const std::uint32_t lsr = ntp_middle32(NtpTime{report->ntp_seconds, report->ntp_fraction});
  EXPECT_EQ(lsr, 0x6F808000U);  // low 16 bits of the seconds, high 16 of the fraction

  // The peer held the SR 1 s (DLSR 0x0001:0000); its report arrives 1.125 s after the SR left.
  ReportBlock block{.source_ssrc = 0xA1, .last_sr = lsr, .delay_since_last_sr = 0x00010000U};
  EXPECT_EQ(stats.on_report_block(block, kT0 + 1125ms), std::chrono::microseconds(125'000));
  EXPECT_EQ(stats.last_rtt(), std::chrono::microseconds(125'000));
  EXPECT_EQ(stats.snapshot().last_report_block, block);

  // An LSR we never sent, no LSR, or another SSRC: no RTT, the last one is kept.
  block.last_sr = lsr + 1;
  EXPECT_FALSE(stats.on_report_block(block, kT0 + 2s));
  block.last_sr = 0;
  EXPECT_FALSE(stats.on_report_block(block, kT0 + 2s));
  block = ReportBlock{.source_ssrc = 0xB2, .last_sr = lsr};
  EXPECT_FALSE(stats.on_report_block(block, kT0 + 2s));
  EXPECT_EQ(stats.last_rtt(), std::chrono::microseconds(125'000));
}

TEST(SendStatistics, SenderReportDueWhileSentInLastTwoIntervals) {
  SendStatistics stats(1, kAudioRate);
  EXPECT_FALSE(stats.sent_recently());
  stats.on_packet_sent(0, 160, kT0);
  EXPECT_TRUE(stats.sent_recently());
  stats.on_report_sent();  // interval 1 had RTP
  EXPECT_TRUE(stats.sent_recently());
  stats.on_report_sent();  // interval 2 had none, but the one before did (§6.4)
  EXPECT_FALSE(stats.sent_recently());
  stats.on_packet_sent(160, 160, kT0 + 20ms);
  EXPECT_TRUE(stats.sent_recently());
}

}  // namespace stream_statistics_test
}  // namespace chorus::media::rtcp
