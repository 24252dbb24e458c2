// Builders: every packet type writes the annotated wire vector back octet for octet (or, for
// transport-cc, a packet that parses to the same value), refuses buffers that are too small,
// and the minimal RFC 3550 compound (RR or SR + SDES CNAME) walks and parses back.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <vector>

#include "media/rtcp/app.hpp"
#include "media/rtcp/bye.hpp"
#include "media/rtcp/compound_builder.hpp"
#include "media/rtcp/generic_nack.hpp"
#include "media/rtcp/payload_feedback.hpp"
#include "media/rtcp/sdes.hpp"
#include "media/rtcp/sender_report.hpp"
#include "media/rtcp/tmmbr.hpp"
#include "media/rtcp/transport_cc.hpp"
#include "tests/unit/media/rtcp/rtcp_test_vectors.hpp"

namespace chorus::media::rtcp {
namespace builders_test {

using namespace std::chrono_literals;

// Parses `wire`, writes the value back and expects the same octets; then checks that one octet
// less of buffer is refused.
template <class Packet>
void expect_rebuilds(std::span<const std::uint8_t> wire) {
  const auto bytes = test::heap_copy(wire);
  const auto packet = Packet::parse(*RtcpHeader::parse(bytes));
  ASSERT_TRUE(packet);
  std::vector<std::uint8_t> out(wire.size());
  const auto written = packet->write(out);
  ASSERT_TRUE(written);
  EXPECT_EQ(*written, wire.size());
  EXPECT_EQ(out, bytes);
  std::vector<std::uint8_t> small(wire.size() - 1);
  EXPECT_FALSE(packet->write(small));
}

TEST(RtcpBuilders, SenderReportRebuildsWireVector) {
  expect_rebuilds<SenderReport>(test::kSenderReport);
}
TEST(RtcpBuilders, ReceiverReportRebuildsWireVector) {
  expect_rebuilds<ReceiverReport>(test::kReceiverReport);
}
TEST(RtcpBuilders, SdesRebuildsWireVector) {
  expect_rebuilds<Sdes>(test::kSdesCname);
}
TEST(RtcpBuilders, ByeRebuildsWireVector) {
  expect_rebuilds<Bye>(test::kByeWithReason);
}
TEST(RtcpBuilders, AppRebuildsWireVector) {
  expect_rebuilds<App>(test::kApp);
}
TEST(RtcpBuilders, GenericNackRebuildsWireVector) {
  expect_rebuilds<GenericNack>(test::kGenericNack);
}
TEST(RtcpBuilders, TmmbrRebuildsWireVector) {
  expect_rebuilds<Tmmbr>(test::kTmmbr);
}
TEST(RtcpBuilders, PliRebuildsWireVector) {
  expect_rebuilds<Pli>(test::kPli);
}
TEST(RtcpBuilders, FirRebuildsWireVector) {
  expect_rebuilds<Fir>(test::kFir);
}
TEST(RtcpBuilders, RembRebuildsWireVector) {
  expect_rebuilds<Remb>(test::kRemb);
}

TEST(RtcpBuilders, TransportCcRoundTripsThroughItsOwnChunkChoice) {
  const auto bytes = test::heap_copy(test::kTransportCc);
  const auto original = TransportCc::parse(*RtcpHeader::parse(bytes));
  ASSERT_TRUE(original);
  std::array<std::uint8_t, 64> out{};
  const auto written = original->write(out);
  ASSERT_TRUE(written);
  EXPECT_EQ(*written % 4, 0U);
  const auto header = RtcpHeader::parse(std::span(out).first(*written));
  ASSERT_TRUE(header);
  EXPECT_EQ(TransportCc::parse(*header), original);
}

TEST(RtcpBuilders, TransportCcUsesRunLengthForLongRuns) {
  TransportCc feedback{1, 2, 65530, -5, 9, {}};
  for (std::uint16_t i = 0; i < 40; ++i) {
    const bool received = i < 20 || i == 39;
    feedback.packets.push_back({static_cast<std::uint16_t>(65530 + i),
                                received ? TransportCcStatus::kReceivedSmallDelta : TransportCcStatus::kNotReceived,
                                received ? 750us : 0us});
  }
  feedback.packets[25] = {static_cast<std::uint16_t>(65530 + 25), TransportCcStatus::kReceivedLargeDelta, -2ms};
  std::array<std::uint8_t, 128> out{};
  const auto written = feedback.write(out);
  ASSERT_TRUE(written);
  EXPECT_EQ(TransportCc::parse(*RtcpHeader::parse(std::span(out).first(*written))), feedback);
}

TEST(RtcpBuilders, TransportCcRefusesDeltaTooLargeForItsStatus) {
  TransportCc feedback{1, 2, 0, 0, 0, {{0, TransportCcStatus::kReceivedSmallDelta, 64ms}}};
  std::array<std::uint8_t, 64> out{};
  EXPECT_FALSE(feedback.write(out));
  feedback.packets[0].status = TransportCcStatus::kReceivedLargeDelta;
  EXPECT_TRUE(feedback.write(out));
  feedback.packets[0].sequence_number = 1;  // must be base + 0
  EXPECT_FALSE(feedback.write(out));
}

TEST(RtcpBuilders, BitratesRoundDownToTheirMantissa) {
  const Remb remb{1, 1'000'001, {3}};
  std::array<std::uint8_t, 32> out{};
  const auto written = remb.write(out);
  ASSERT_TRUE(written);
  const auto parsed = Remb::parse(*RtcpHeader::parse(std::span(out).first(*written)));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->bitrate_bps, 1'000'000U);  // 1000001 >> 2 << 2
}

TEST(RtcpBuilders, RefusesEmptyNackFirAndTmmbr) {
  std::array<std::uint8_t, 64> out{};
  EXPECT_FALSE(GenericNack{}.write(out));
  EXPECT_FALSE(Fir{}.write(out));
  EXPECT_FALSE(Tmmbr{}.write(out));
  EXPECT_TRUE(Tmmbn{}.write(out));
}

TEST(RtcpBuilders, RefusesOverlongSdesItemAndByeReason) {
  const std::string long_text(256, 'x');
  std::array<std::uint8_t, 512> out{};
  const Sdes sdes{{SdesChunk{1, {SdesItem{SdesItemType::kCname, long_text}}}}};
  EXPECT_FALSE(sdes.write(out));
  const Bye bye{{1}, long_text};
  EXPECT_FALSE(bye.write(out));
}

// Parses what `packet` writes and expects the same value back.
template <class Packet>
void expect_round_trip(const Packet& packet) {
  std::vector<std::uint8_t> out(packet.size());
  const auto written = packet.write(out);
  ASSERT_TRUE(written);
  ASSERT_EQ(*written, out.size());
  const auto header = RtcpHeader::parse(out);
  ASSERT_TRUE(header);
  EXPECT_EQ(Packet::parse(*header), packet);
}

TEST(RtcpBuilders, MultiChunkSdesRoundTrips) {
  const Sdes sdes{{
      SdesChunk{1, {SdesItem{SdesItemType::kName, "Alice"}, SdesItem{SdesItemType::kCname, "alice@host"}}},
      SdesChunk{2, {SdesItem{SdesItemType::kTool, "chorus"}}},
      SdesChunk{3, {}},
  }};
  expect_round_trip(sdes);
  EXPECT_EQ(sdes.chunks[0].cname(), "alice@host");
  EXPECT_FALSE(sdes.chunks[1].cname());
}

TEST(RtcpBuilders, ByeWithoutReasonAndTmmbnWithItemsRoundTrip) {
  expect_round_trip(Bye{{1, 2, 3}, {}});
  expect_round_trip(Tmmbn{9, {TmmbItem{1, 64000, 28}, TmmbItem{2, 1ULL << 40, 511}}});
  expect_round_trip(Fir{5, {FirEntry{1, 255}, FirEntry{2, 0}}});
}

TEST(CompoundBuilder, MinimalReceiverReportCompoundParsesBack) {
  const ReceiverReport rr{0xCAFEBABE, {ReportBlock{0x1234, 12, -7, 70000, 33, 0x1A208000, 0x18000}}};
  std::array<std::uint8_t, 128> out{};
  const auto written = write_minimal_compound(rr, "chorus@conference", out);
  ASSERT_TRUE(written);
  const auto view = CompoundView::parse(std::span(out).first(*written));
  ASSERT_TRUE(view);
  EXPECT_FALSE(view->reduced_size());
  ASSERT_EQ(view->packet_count(), 2U);
  auto it = view->begin();
  EXPECT_EQ(ReceiverReport::parse(*it++), rr);
  const auto sdes = Sdes::parse(*it);
  ASSERT_TRUE(sdes);
  EXPECT_EQ(sdes->chunks.at(0).ssrc, 0xCAFEBABEU);
  EXPECT_EQ(sdes->chunks.at(0).cname(), "chorus@conference");
}

TEST(CompoundBuilder, MinimalSenderReportCompoundParsesBack) {
  const SenderReport sr{7, 0xE88F1A20, 0x80000000, 160, 1, 172, {}};
  std::array<std::uint8_t, 64> out{};
  const auto written = write_minimal_compound(sr, "a", out);
  ASSERT_TRUE(written);
  EXPECT_EQ(*written, 28U + 12U);  // SR without blocks, SDES chunk of 4 + 3 + 1 rounded to 8
  const auto view = CompoundView::parse(std::span(out).first(*written));
  ASSERT_TRUE(view);
  EXPECT_EQ(SenderReport::parse(*view->begin()), sr);
}

TEST(CompoundBuilder, FailsAndStaysFailedWhenBufferIsFull) {
  std::array<std::uint8_t, 36> out{};
  CompoundBuilder builder(out);
  EXPECT_TRUE(builder.add(ReceiverReport{1, {}}));      // 8 octets
  EXPECT_FALSE(builder.add(Remb{1, 1000, {1, 2, 3}}));  // 32 octets do not fit in 28
  EXPECT_FALSE(builder.add(Pli{1, 2}));                 // 12 would, but the compound is already broken
  EXPECT_FALSE(builder.finish());
}

TEST(CompoundBuilder, AppendsFeedbackAfterReport) {
  std::array<std::uint8_t, 64> out{};
  CompoundBuilder builder(out);
  EXPECT_TRUE(builder.add(ReceiverReport{1, {}}));
  EXPECT_TRUE(builder.add(Pli{1, 2}));
  ASSERT_EQ(builder.finish(), 20U);
  const auto view = CompoundView::parse(std::span(out).first(20));
  ASSERT_TRUE(view);
  EXPECT_EQ(view->packet_count(), 2U);
}

}  // namespace builders_test
}  // namespace chorus::media::rtcp
