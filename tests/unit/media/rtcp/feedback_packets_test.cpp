// RTPFB and PSFB feedback messages parsed from annotated wire vectors: Generic NACK, TMMBR/TMMBN,
// transport-cc, PLI, FIR, REMB (RFC 4585 §6, RFC 5104 §4, the transport-cc and REMB drafts).
#include <gtest/gtest.h>

#include <chrono>

#include "media/rtcp/generic_nack.hpp"
#include "media/rtcp/payload_feedback.hpp"
#include "media/rtcp/tmmbr.hpp"
#include "media/rtcp/transport_cc.hpp"
#include "tests/unit/media/rtcp/rtcp_test_vectors.hpp"

namespace chorus::media::rtcp {
namespace feedback_packets_test {

using namespace std::chrono_literals;
using test::heap_copy;

RtcpHeader header_of(const std::vector<std::uint8_t>& bytes) {
  return *RtcpHeader::parse(bytes);
}

TEST(GenericNack, ExpandsPidAndBlpToLostSequenceNumbers) {
  const auto bytes = heap_copy(test::kGenericNack);
  const auto nack = GenericNack::parse(header_of(bytes));
  ASSERT_TRUE(nack);
  EXPECT_EQ(nack->sender_ssrc, 1U);
  EXPECT_EQ(nack->media_ssrc, 2U);
  EXPECT_EQ(nack->lost_sequence_numbers(), (std::vector<std::uint16_t>{100, 101, 103, 116, 200}));
}

TEST(GenericNack, RejectsMessageWithoutFci) {
  const auto bytes = heap_copy(std::span(test::kGenericNack).first(12));
  auto copy = bytes;
  copy[3] = 0x02;  // length=2: the two SSRCs and no PID/BLP pair
  EXPECT_FALSE(GenericNack::parse(header_of(copy)));
}

TEST(GenericNack, BlpWrapsAroundSequenceNumberSpace) {
  const GenericNack nack{1, 2, {NackItem{0xFFFF, 0x0003}}};
  EXPECT_EQ(nack.lost_sequence_numbers(), (std::vector<std::uint16_t>{0xFFFF, 0x0000, 0x0001}));
}

TEST(GenericNack, FromLostPacksNeighboursIntoOneItem) {
  const std::vector<std::uint16_t> lost = {100, 101, 103, 116, 200, 65535, 0, 3};
  const auto nack = GenericNack::from_lost(1, 2, lost);
  EXPECT_EQ(nack.items, (std::vector<NackItem>{{100, 0x8005}, {200, 0}, {65535, 0x0009}}));
  EXPECT_EQ(nack.lost_sequence_numbers(), lost);
}

TEST(Tmmbr, ParsesBitrateAndOverhead) {
  const auto bytes = heap_copy(test::kTmmbr);
  const auto tmmbr = Tmmbr::parse(header_of(bytes));
  ASSERT_TRUE(tmmbr);
  EXPECT_EQ(tmmbr->sender_ssrc, 1U);
  ASSERT_EQ(tmmbr->items.size(), 1U);
  EXPECT_EQ(tmmbr->items[0].ssrc, 0xAABBCCDDU);
  EXPECT_EQ(tmmbr->items[0].bitrate_bps, 256000U);
  EXPECT_EQ(tmmbr->items[0].overhead, 40);
  EXPECT_FALSE(Tmmbn::parse(header_of(bytes)));  // FMT 3 is not a notification
}

TEST(Tmmbr, RejectsBitrateOverflowingSixtyFourBits) {
  auto bytes = heap_copy(test::kTmmbr);
  bytes[16] = 0xFF;  // exponent 63 with a 17-bit mantissa
  EXPECT_FALSE(Tmmbr::parse(header_of(bytes)));
}

TEST(Tmmbn, AcceptsEmptyBoundingSet) {
  const std::vector<std::uint8_t> bytes = {
      0x84, 0xCD, 0x00, 0x02,  // FMT=4 (TMMBN), RTPFB, length=2
      0x00, 0x00, 0x00, 0x01,  // SSRC of packet sender
      0x00, 0x00, 0x00, 0x00,  // SSRC of media source: 0
  };
  const auto tmmbn = Tmmbn::parse(header_of(bytes));
  ASSERT_TRUE(tmmbn);
  EXPECT_TRUE(tmmbn->items.empty());
}

TEST(TransportCc, ExpandsRunLengthAndTwoBitVectorChunks) {
  const auto bytes = heap_copy(test::kTransportCc);
  const auto feedback = TransportCc::parse(header_of(bytes));
  ASSERT_TRUE(feedback);
  EXPECT_EQ(feedback->base_sequence, 1000);
  EXPECT_EQ(feedback->reference_time, 258);
  EXPECT_EQ(feedback->reference_time_ms(), 16512ms);
  EXPECT_EQ(feedback->feedback_count, 3);
  using S = TransportCcStatus;
  const std::vector<TransportCcPacket> expected = {
      {1000, S::kReceivedSmallDelta, 1000us},  {1001, S::kReceivedSmallDelta, 2000us},
      {1002, S::kReceivedSmallDelta, 0us},     {1003, S::kReceivedSmallDelta, 63750us},
      {1004, S::kReceivedSmallDelta, 250us},   {1005, S::kNotReceived, 0us},
      {1006, S::kReceivedLargeDelta, -1000us}, {1007, S::kReceivedSmallDelta, 500us},
      {1008, S::kReceivedSmallDelta, 10000us},
  };
  EXPECT_EQ(feedback->packets, expected);
}

TEST(TransportCc, ExpandsOneBitVectorChunk) {
  const std::vector<std::uint8_t> bytes = {
      0x8F, 0xCD, 0x00, 0x05,  // FMT=15, RTPFB, length=5
      0x00, 0x00, 0x00, 0x01,  // SSRC of packet sender
      0x00, 0x00, 0x00, 0x02,  // SSRC of media source
      0xFF, 0xFF,              // base sequence 65535
      0x00, 0x03,              // status count 3
      0xFF, 0xFF, 0xFF,        // reference time -1 (24-bit signed)
      0x00,                    // feedback count 0
      0xA0, 0x00,              // T=1 S=0 (1-bit): 1 0 0 ...: 65535 received, 0 and 1 not
      0x10,                    // 65535: delta 16 (4 ms)
      0x00,                    // zero padding
  };
  const auto feedback = TransportCc::parse(header_of(bytes));
  ASSERT_TRUE(feedback);
  EXPECT_EQ(feedback->reference_time, -1);
  ASSERT_EQ(feedback->packets.size(), 3U);
  EXPECT_EQ(feedback->packets[0], (TransportCcPacket{65535, TransportCcStatus::kReceivedSmallDelta, 4000us}));
  EXPECT_EQ(feedback->packets[1].sequence_number, 0);
  EXPECT_FALSE(feedback->packets[1].received());
  EXPECT_FALSE(feedback->packets[2].received());
}

TEST(TransportCc, RejectsMissingReceiveDeltas) {
  auto bytes = heap_copy(std::span(test::kTransportCc).first(28));
  bytes[3] = 0x06;  // length=6: the chunks fit but only 4 of 8 deltas do
  EXPECT_FALSE(TransportCc::parse(header_of(bytes)));
}

TEST(TransportCc, RejectsChunksShorterThanStatusCount) {
  const std::vector<std::uint8_t> bytes = {
      0x8F, 0xCD, 0x00, 0x05,  // FMT=15, RTPFB, length=5
      0x00, 0x00, 0x00, 0x01,  // SSRC of packet sender
      0x00, 0x00, 0x00, 0x02,  // SSRC of media source
      0x03, 0xE8,              // base sequence 1000
      0x00, 0x14,              // status count 20
      0x00, 0x00, 0x00,        // reference time 0
      0x00,                    // feedback count 0
      0x20, 0x05,              // run-length chunk: 5 received
      0x00, 0x00,              // run-length chunk: run 0; then the packet ends 15 statuses short
  };
  EXPECT_FALSE(TransportCc::parse(header_of(bytes)));
}

TEST(TransportCc, RejectsReservedSymbol) {
  auto bytes = heap_copy(test::kTransportCc);
  bytes[20] = 0x60;  // run-length chunk with S=11
  EXPECT_FALSE(TransportCc::parse(header_of(bytes)));
}

TEST(TransportCc, RejectsZeroStatusCount) {
  auto bytes = heap_copy(test::kTransportCc);
  bytes[15] = 0x00;
  EXPECT_FALSE(TransportCc::parse(header_of(bytes)));
}

TEST(Pli, ParsesSsrcs) {
  const auto bytes = heap_copy(test::kPli);
  const auto pli = Pli::parse(header_of(bytes));
  ASSERT_TRUE(pli);
  EXPECT_EQ(pli->sender_ssrc, 1U);
  EXPECT_EQ(pli->media_ssrc, 2U);
  EXPECT_FALSE(Fir::parse(header_of(bytes)));
}

TEST(Pli, RejectsMissingMediaSsrc) {
  auto bytes = heap_copy(std::span(test::kPli).first(8));
  bytes[3] = 0x01;  // length=1: only the sender SSRC
  EXPECT_FALSE(Pli::parse(header_of(bytes)));
}

TEST(Fir, ParsesEntry) {
  const auto bytes = heap_copy(test::kFir);
  const auto fir = Fir::parse(header_of(bytes));
  ASSERT_TRUE(fir);
  EXPECT_EQ(fir->sender_ssrc, 1U);
  EXPECT_EQ(fir->entries, (std::vector<FirEntry>{{0xAABBCCDD, 7}}));
}

TEST(Remb, ParsesBitrateAndTwoSsrcs) {
  const auto bytes = heap_copy(test::kRemb);
  const auto remb = Remb::parse(header_of(bytes));
  ASSERT_TRUE(remb);
  EXPECT_EQ(remb->sender_ssrc, 1U);
  EXPECT_EQ(remb->bitrate_bps, 1'000'000U);
  EXPECT_EQ(remb->ssrcs, (std::vector<std::uint32_t>{0x11111111, 0x22222222}));
}

TEST(Remb, RejectsMoreSsrcsThanPresent) {
  auto bytes = heap_copy(test::kRemb);
  bytes[16] = 0x03;  // Num SSRC 3, two present
  EXPECT_FALSE(Remb::parse(header_of(bytes)));
}

TEST(Remb, RejectsWrongIdentifier) {
  auto bytes = heap_copy(test::kRemb);
  bytes[12] = 'X';
  EXPECT_FALSE(Remb::parse(header_of(bytes)));
}

}  // namespace feedback_packets_test
}  // namespace chorus::media::rtcp
