// RtcpReporter: SR vs RR (RFC 3550 §6.4) with annotated wire bytes, the LSR/DLSR round trip
// between two reporters giving the RTT that was injected (§6.4.1), the report interval of §6.2,
// §6.3 and A.7, the cap on remote sources, more than 31 report blocks (§6.1), BYE, and malformed
// compounds counted.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "media/rtcp/rtcp_header.hpp"
#include "media/rtcp/rtcp_reporter.hpp"
#include "media/rtcp/sender_report.hpp"

namespace chorus::media::rtcp {
namespace rtcp_reporter_test {

using namespace std::chrono_literals;

const SteadyTime kT0{1000s};
const WallTime kWall{std::chrono::seconds(1'700'000'000) + 500ms};  // NTP 0xE8FE6F80.80000000
constexpr std::uint32_t kAudioRate = 8000;

RtcpReporterConfig config(std::uint32_t ssrc, std::string cname = "ab") {
  RtcpReporterConfig config;
  config.ssrc = ssrc;
  config.cname = std::move(cname);
  return config;
}

std::vector<std::uint8_t> build(RtcpReporter& reporter, SteadyTime now, WallTime wall) {
  std::vector<std::uint8_t> out(1500);
  const auto size = reporter.build_report(now, wall, out);
  if (!size) return {};
  out.resize(*size);
  return out;
}

// The packet types of a compound, in order; empty if it does not parse.
std::vector<std::uint8_t> packet_types(std::span<const std::uint8_t> compound) {
  std::vector<std::uint8_t> types;
  const auto view = CompoundView::parse(compound);
  if (!view) return types;
  for (const RtcpHeader header : *view) types.push_back(header.raw_type());
  return types;
}

// The first report's (SR or RR) report blocks.
std::vector<ReportBlock> first_blocks(std::span<const std::uint8_t> compound) {
  const auto header = RtcpHeader::parse(compound);
  if (!header) return {};
  if (header->is(PacketType::kSr)) return SenderReport::parse(*header)->report_blocks;
  if (header->is(PacketType::kRr)) return ReceiverReport::parse(*header)->report_blocks;
  return {};
}

TEST(RtcpReporter, ReceiverOnlySendsRrAndCname) {
  RtcpReporter reporter(config(0x11111111));
  constexpr std::array<std::uint8_t, 24> kExpected = {
      0x80, 0xC9, 0x00, 0x01,  // V=2, RC=0, PT=201 (RR), length 1 (8 octets)
      0x11, 0x11, 0x11, 0x11,  // reporter SSRC
      0x81, 0xCA, 0x00, 0x03,  // V=2, SC=1, PT=202 (SDES), length 3 (16 octets)
      0x11, 0x11, 0x11, 0x11,  // chunk SSRC
      0x01, 0x02, 'a',  'b',   // CNAME, 2 octets (§6.5.1)
      0x00, 0x00, 0x00, 0x00,  // end of items, padding to 32 bits
  };
  const auto compound = build(reporter, kT0, kWall);
  EXPECT_THAT(compound, testing::ElementsAreArray(kExpected));
  EXPECT_EQ(reporter.counters().reports_built, 1U);
}

TEST(RtcpReporter, SenderReportWhileSendingThenRrAfterTwoSilentIntervals) {
  RtcpReporter reporter(config(0x11111111));
  ASSERT_TRUE(reporter.add_local_source(0x11111111, kAudioRate));
  EXPECT_FALSE(reporter.add_local_source(0x11111111, kAudioRate));  // already known
  ASSERT_TRUE(reporter.on_rtp_sent(0x11111111, 0x1000, 160, kT0));
  EXPECT_FALSE(reporter.on_rtp_sent(0x99, 0, 160, kT0));
  // Remote 0x22222222 sends sequence 0..9 with 5 lost, at a constant transit (no jitter).
  for (std::uint16_t seq = 0; seq < 10; ++seq) {
    if (seq != 5) reporter.on_rtp_received(0x22222222, seq, seq * 160U, 160, kT0 + seq * 20ms, kAudioRate);
  }
  constexpr std::array<std::uint8_t, 68> kExpected = {
      0x81, 0xC8, 0x00, 0x0C,  // V=2, RC=1, PT=200 (SR), length 12 (52 octets)
      0x11, 0x11, 0x11, 0x11,  // sender SSRC
      0xE8, 0xFE, 0x6F, 0x80,  // NTP seconds (2023-11-14T22:13:20Z)
      0x80, 0x00, 0x00, 0x00,  // NTP fraction: .5 s
      0x00, 0x00, 0x10, 0xA0,  // RTP timestamp: 0x1000 + 20 ms at 8 kHz (160)
      0x00, 0x00, 0x00, 0x01,  // sender's packet count
      0x00, 0x00, 0x00, 0xA0,  // sender's octet count: 160 payload octets
      0x22, 0x22, 0x22, 0x22,  // report block: SSRC_1
      0x19, 0x00, 0x00, 0x01,  // fraction lost 1/10 * 256 = 25; cumulative lost 1
      0x00, 0x00, 0x00, 0x09,  // extended highest sequence number
      0x00, 0x00, 0x00, 0x00,  // interarrival jitter
      0x00, 0x00, 0x00, 0x00,  // LSR: no SR from 0x22222222 yet
      0x00, 0x00, 0x00, 0x00,  // DLSR
      0x81, 0xCA, 0x00, 0x03,  // SDES, SC=1, length 3
      0x11, 0x11, 0x11, 0x11,  //
      0x01, 0x02, 'a',  'b',   // CNAME "ab"
      0x00, 0x00, 0x00, 0x00,  // end of items, padding
  };
  EXPECT_THAT(build(reporter, kT0 + 20ms, kWall), testing::ElementsAreArray(kExpected));

  // Nothing sent in this interval but in the one before: still an SR (§6.4), and no report
  // block as 0x22222222 sent nothing since the last report (§6.4.1).
  auto compound = build(reporter, kT0 + 5s, kWall + 5s);
  EXPECT_EQ(packet_types(compound), (std::vector<std::uint8_t>{200, 202}));
  EXPECT_TRUE(first_blocks(compound).empty());
  compound = build(reporter, kT0 + 10s, kWall + 10s);
  EXPECT_EQ(packet_types(compound), (std::vector<std::uint8_t>{201, 202}));
}

TEST(RtcpReporter, LsrAndDlsrRoundTripGivesTheInjectedRtt) {
  // A and B both send audio; their wall clocks disagree by three hours, which LSR/DLSR must not
  // care about. One-way delays 62.5 ms each way, B holds A's SR for 1 s: RTT 125 ms.
  RtcpReporter a(config(0xAAAA0001, "a@example.org"));
  RtcpReporter b(config(0xBBBB0002, "b@example.org"));
  ASSERT_TRUE(a.add_local_source(0xAAAA0001, kAudioRate));
  ASSERT_TRUE(b.add_local_source(0xBBBB0002, kAudioRate));
  constexpr auto kOneWay = 62'500us;
  for (std::uint16_t seq = 0; seq < 50; ++seq) {
    const SteadyTime sent = kT0 + seq * 20ms;
    a.on_rtp_sent(0xAAAA0001, seq * 160U, 160, sent);
    b.on_rtp_received(0xAAAA0001, seq, seq * 160U, 160, sent + kOneWay, kAudioRate);
    b.on_rtp_sent(0xBBBB0002, seq * 160U, 160, sent);
    a.on_rtp_received(0xBBBB0002, seq, seq * 160U, 160, sent + kOneWay, kAudioRate);
  }
  const SteadyTime a_sends = kT0 + 1s;
  const auto from_a = build(a, a_sends, kWall);
  ASSERT_TRUE(b.on_rtcp(from_a, a_sends + kOneWay));

  const SteadyTime b_sends = a_sends + kOneWay + 1s;
  const auto from_b = build(b, b_sends, kWall + 3h);
  const auto blocks = first_blocks(from_b);
  ASSERT_EQ(blocks.size(), 1U);
  EXPECT_EQ(blocks[0].source_ssrc, 0xAAAA0001U);
  EXPECT_EQ(blocks[0].last_sr, 0x6F808000U);              // middle 32 bits of A's SR timestamp
  EXPECT_EQ(blocks[0].delay_since_last_sr, 0x00010000U);  // 1 s in 1/65536 s

  ASSERT_TRUE(a.on_rtcp(from_b, b_sends + kOneWay));
  EXPECT_EQ(a.local_source(0xAAAA0001)->last_rtt(), std::chrono::microseconds(125'000));
  // The reporter's own stream at A shows the same RTT.
  EXPECT_EQ(a.remote_source(0xBBBB0002)->snapshot().last_rtt, std::chrono::microseconds(125'000));
  EXPECT_EQ(a.counters().rtt_measurements, 1U);
  EXPECT_EQ(a.counters().sender_reports_received, 1U);
  // A's SR had a block on B's stream but no LSR (B had sent no SR yet), so B has no RTT.
  EXPECT_FALSE(b.local_source(0xBBBB0002)->last_rtt());
}

TEST(RtcpReporter, UnevenDelaysGiveRttWithinOneNtpShortUnit) {
  RtcpReporter a(config(1, "a"));
  RtcpReporter b(config(2, "b"));
  ASSERT_TRUE(a.add_local_source(1, kAudioRate));
  a.on_rtp_sent(1, 0, 160, kT0);
  b.on_rtp_received(1, 0, 0, 160, kT0 + 40ms, kAudioRate);
  const auto from_a = build(a, kT0 + 10ms, kWall);
  ASSERT_TRUE(b.on_rtcp(from_a, kT0 + 50ms));  // 40 ms there
  b.on_rtp_received(1, 1, 160, 160, kT0 + 60ms, kAudioRate);
  const auto from_b = build(b, kT0 + 50ms + 333ms, kWall - 1h);
  ASSERT_TRUE(a.on_rtcp(from_b, kT0 + 50ms + 333ms + 60ms));  // 60 ms back
  const auto rtt = a.local_source(1)->last_rtt();
  ASSERT_TRUE(rtt);
  // DLSR and A are truncated to 1/65536 s (15.26 µs) each.
  EXPECT_NEAR(static_cast<double>(rtt->count()), 100'000.0, 16.0);
}

TEST(RtcpReporter, FirstIntervalIsHalfTheMinimumRandomisedAndCompensated) {
  RtcpReporter reporter(config(1));
  // RFC 3550 A.7: Tmin = 5 s, halved before the first report (§6.2), times [0.5, 1.5], divided
  // by e - 3/2 = 1.21828: the first report waits 1.25/1.21828 .. 3.75/1.21828 s.
  constexpr double kCompensation = 1.21828;
  const auto seconds = [](std::chrono::microseconds delay) { return delay.count() / 1e6; };
  EXPECT_NEAR(seconds(reporter.next_report_delay(0.0)), 1.25 / kCompensation, 1e-6);
  EXPECT_NEAR(seconds(reporter.next_report_delay(1.0)), 3.75 / kCompensation, 1e-6);
  EXPECT_NEAR(seconds(reporter.next_report_delay(0.5)), 2.5 / kCompensation, 1e-6);
  EXPECT_NEAR(seconds(reporter.next_report_delay(7.0)), 3.75 / kCompensation, 1e-6);  // clamped
  for (int i = 0; i <= 100; ++i) {
    const double delay = seconds(reporter.next_report_delay(i / 100.0));
    EXPECT_GE(delay, 1.25 / kCompensation - 1e-6);
    EXPECT_LE(delay, 3.75 / kCompensation + 1e-6);
  }
  build(reporter, kT0, kWall);
  // Later reports: 2.5/1.21828 .. 7.5/1.21828 s (2.05 .. 6.16 s).
  EXPECT_NEAR(seconds(reporter.next_report_delay(0.0)), 2.5 / kCompensation, 1e-6);
  EXPECT_NEAR(seconds(reporter.next_report_delay(1.0)), 7.5 / kCompensation, 1e-6);
  for (int i = 0; i <= 100; ++i) {
    const double delay = seconds(reporter.next_report_delay(i / 100.0));
    EXPECT_GE(delay, 2.5 / kCompensation - 1e-6);
    EXPECT_LE(delay, 7.5 / kCompensation + 1e-6);
  }
}

TEST(RtcpInterval, BandwidthSharesOfAppendixA7) {
  // 100 members, 10 senders (at most a quarter): receivers share 75 % of 400 octets/s.
  RtcpIntervalInputs inputs{.members = 100,
                            .senders = 10,
                            .rtcp_bandwidth = 400.0,
                            .we_sent = false,
                            .avg_rtcp_size = 200.0,
                            .initial = false};
  // 200 * 90 / 300 = 60 s, times 1.0, / 1.21828.
  EXPECT_NEAR(rtcp_interval(inputs, 0.5).count() / 1e6, 60.0 / 1.21828, 1e-5);
  // A sender: 10 senders share 25 %: 200 * 10 / 100 = 20 s.
  inputs.we_sent = true;
  EXPECT_NEAR(rtcp_interval(inputs, 0.5).count() / 1e6, 20.0 / 1.21828, 1e-5);
  // More than a quarter send: all share the whole bandwidth: 200 * 100 / 400 = 50 s, times 0.5.
  inputs.senders = 40;
  EXPECT_NEAR(rtcp_interval(inputs, 0.0).count() / 1e6, 25.0 / 1.21828, 1e-5);
  // No bandwidth at all: the minimum.
  inputs.rtcp_bandwidth = 0;
  EXPECT_NEAR(rtcp_interval(inputs, 0.5).count() / 1e6, 5.0 / 1.21828, 1e-5);
}

TEST(RtcpReporter, LowSessionBandwidthStretchesTheInterval) {
  RtcpReporterConfig low = config(1);
  low.session_bandwidth_bps = 8000;  // RTCP gets 5 %: 50 octets/s
  RtcpReporter reporter(low);
  for (std::uint32_t ssrc = 100; ssrc < 120; ++ssrc) reporter.on_rtp_received(ssrc, 0, 0, 100, kT0, kAudioRate);
  build(reporter, kT0, kWall);
  // 21 members (20 remote and us), no sender since the report: receivers' 75 % of 50 octets/s.
  const double expected = reporter.avg_rtcp_size() * 21 / 37.5 / 1.21828;
  EXPECT_GT(expected, 5.0 / 1.21828);
  EXPECT_NEAR(reporter.next_report_delay(0.5).count() / 1e6, expected, 1e-5);
}

TEST(RtcpReporter, RemoteSourcesBeyondTheCapAreDroppedAndCounted) {
  RtcpReporterConfig capped = config(1);
  capped.max_remote_sources = 3;
  RtcpReporter reporter(capped);
  for (std::uint32_t ssrc = 10; ssrc < 13; ++ssrc) {
    EXPECT_TRUE(reporter.on_rtp_received(ssrc, 0, 0, 100, kT0, kAudioRate));
  }
  EXPECT_FALSE(reporter.on_rtp_received(13, 0, 0, 100, kT0, kAudioRate));
  EXPECT_TRUE(reporter.on_rtp_received(12, 1, 160, 100, kT0, kAudioRate));  // known sources still count
  EXPECT_EQ(reporter.remote_source_count(), 3U);
  EXPECT_EQ(reporter.remote_source(13), nullptr);

  // An SR from a fourth source: the compound is fine, the source is not added.
  RtcpReporter other(config(14));
  ASSERT_TRUE(other.add_local_source(14, kAudioRate));
  other.on_rtp_sent(14, 0, 100, kT0);
  EXPECT_TRUE(reporter.on_rtcp(build(other, kT0, kWall), kT0));
  EXPECT_EQ(reporter.remote_source_count(), 3U);
  EXPECT_EQ(reporter.counters().dropped_remote_sources, 2U);
}

TEST(RtcpReporter, BlocksBeyondThirtyOneGoInAnAdditionalRr) {
  RtcpReporterConfig wide = config(1);
  wide.max_remote_sources = 40;
  RtcpReporter reporter(wide);
  for (std::uint32_t ssrc = 100; ssrc < 133; ++ssrc) reporter.on_rtp_received(ssrc, 0, 0, 100, kT0, kAudioRate);
  const auto compound = build(reporter, kT0, kWall);
  EXPECT_EQ(packet_types(compound), (std::vector<std::uint8_t>{201, 201, 202}));
  EXPECT_EQ(first_blocks(compound).size(), 31U);
  const auto second = RtcpHeader::parse(std::span(compound).subspan(8 + 31 * ReportBlock::kSize));
  ASSERT_TRUE(second);
  const auto rr = ReceiverReport::parse(*second);
  ASSERT_TRUE(rr);
  EXPECT_EQ(rr->sender_ssrc, 1U);
  ASSERT_EQ(rr->report_blocks.size(), 2U);
  EXPECT_EQ(rr->report_blocks[1].source_ssrc, 132U);
}

TEST(RtcpReporter, ByeComesLastAndMakesThePeerForgetTheSource) {
  RtcpReporter a(config(0xA));
  RtcpReporter b(config(0xB));
  ASSERT_TRUE(a.add_local_source(0xA, kAudioRate));
  a.on_rtp_sent(0xA, 0, 160, kT0);
  b.on_rtp_received(0xA, 0, 0, 160, kT0, kAudioRate);
  ASSERT_NE(b.remote_source(0xA), nullptr);
  std::vector<std::uint8_t> out(200);
  const auto size = a.build_bye(kT0, kWall, out, "done");
  ASSERT_TRUE(size);
  out.resize(*size);
  EXPECT_EQ(packet_types(out), (std::vector<std::uint8_t>{200, 202, 203}));
  ASSERT_TRUE(b.on_rtcp(out, kT0 + 10ms));
  EXPECT_EQ(b.remote_source(0xA), nullptr);
  EXPECT_EQ(b.counters().byes_received, 1U);
}

TEST(RtcpReporter, MalformedCompoundsAreCountedAndChangeNothing) {
  RtcpReporter reporter(config(1));
  constexpr std::array<std::uint8_t, 3> kTruncated = {0x80, 0xC9, 0x00};
  EXPECT_FALSE(reporter.on_rtcp(kTruncated, kT0));
  constexpr std::array<std::uint8_t, 8> kWrongVersion = {0x40, 0xC9, 0x00, 0x01, 0, 0, 0, 1};
  EXPECT_FALSE(reporter.on_rtcp(kWrongVersion, kT0));
  // A well-framed SR (length 6) whose RC says one block, which its 24 octets of body cannot hold.
  constexpr std::array<std::uint8_t, 28> kShortSr = {
      0x81, 0xC8, 0x00, 0x06,                                        // V=2, RC=1, PT=200, length 6
      0x00, 0x00, 0x00, 0x07,                                        // sender SSRC
      0xE8, 0xFE, 0x6F, 0x80, 0x80, 0x00, 0x00, 0x00,                // NTP
      0,    0,    0,    0,    0,    0,    0,    1,    0, 0, 0, 100,  // RTP timestamp, packet and octet counts
  };
  EXPECT_FALSE(reporter.on_rtcp(kShortSr, kT0));
  EXPECT_EQ(reporter.counters().malformed_compounds, 3U);
  EXPECT_EQ(reporter.counters().compounds_received, 3U);
  EXPECT_EQ(reporter.remote_source_count(), 0U);
  EXPECT_EQ(reporter.counters().sender_reports_received, 0U);
}

TEST(RtcpReporter, TooSmallBufferLeavesTheIntervalToTheNextReport) {
  RtcpReporter reporter(config(1));
  for (std::uint16_t seq = 0; seq < 10; ++seq) {
    if (seq != 3) reporter.on_rtp_received(7, seq, 0, 100, kT0, kAudioRate);
  }
  std::array<std::uint8_t, 40> small{};
  EXPECT_FALSE(reporter.build_report(kT0, kWall, small));
  EXPECT_EQ(reporter.counters().reports_built, 0U);
  const auto blocks = first_blocks(build(reporter, kT0, kWall));
  ASSERT_EQ(blocks.size(), 1U);
  EXPECT_EQ(blocks[0].fraction_lost, 25);  // the interval was not consumed by the failed attempt
}

TEST(RtcpReporter, CnameMustFitTheSdesItem) {
  EXPECT_THROW(RtcpReporter(config(1, "")), std::invalid_argument);
  EXPECT_THROW(RtcpReporter(config(1, std::string(256, 'x'))), std::invalid_argument);
}

}  // namespace rtcp_reporter_test
}  // namespace chorus::media::rtcp
