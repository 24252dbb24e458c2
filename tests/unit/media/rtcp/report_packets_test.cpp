// SR, RR, SDES, BYE and APP parsed from annotated wire vectors (RFC 3550 §6.4-§6.7), and their
// malformed variants rejected.
#include <gtest/gtest.h>

#include "media/rtcp/app.hpp"
#include "media/rtcp/bye.hpp"
#include "media/rtcp/sdes.hpp"
#include "media/rtcp/sender_report.hpp"
#include "tests/unit/media/rtcp/rtcp_test_vectors.hpp"

namespace chorus::media::rtcp {
namespace report_packets_test {

using test::heap_copy;

std::optional<RtcpHeader> header_of(const std::vector<std::uint8_t>& bytes) {
  return RtcpHeader::parse(bytes);
}

TEST(SenderReport, ParsesSenderInfoAndOneReportBlock) {
  const auto bytes = heap_copy(test::kSenderReport);
  const auto sr = SenderReport::parse(*header_of(bytes));
  ASSERT_TRUE(sr);
  EXPECT_EQ(sr->sender_ssrc, 0x12345678U);
  EXPECT_EQ(sr->ntp_seconds, 0xE88F1A20U);
  EXPECT_EQ(sr->ntp_fraction, 0x80000000U);
  EXPECT_EQ(sr->rtp_timestamp, 123456U);
  EXPECT_EQ(sr->packet_count, 1000U);
  EXPECT_EQ(sr->octet_count, 160000U);
  ASSERT_EQ(sr->report_blocks.size(), 1U);
  const auto& block = sr->report_blocks[0];
  EXPECT_EQ(block.source_ssrc, 0xAABBCCDDU);
  EXPECT_EQ(block.fraction_lost, 64);
  EXPECT_EQ(block.cumulative_lost, -2);
  EXPECT_EQ(block.extended_highest_sequence, 0x000103E8U);
  EXPECT_EQ(block.jitter, 80U);
  EXPECT_EQ(block.last_sr, 0x1A208000U);
  EXPECT_EQ(block.delay_since_last_sr, 0x00018000U);
}

TEST(SenderReport, RejectsReportBlockCountBeyondBody) {
  auto bytes = heap_copy(test::kSenderReport);
  bytes[0] = 0x82;  // RC=2 but the length holds one block
  EXPECT_FALSE(SenderReport::parse(*header_of(bytes)));
}

TEST(SenderReport, RejectsTruncatedSenderInfo) {
  const std::vector<std::uint8_t> bytes = {
      0x80, 0xC8, 0x00, 0x02,  // SR, RC=0, length=2: 8 octets of body instead of 24
      0x12, 0x34, 0x56, 0x78,  // SSRC of sender
      0xE8, 0x8F, 0x1A, 0x20,  // NTP MSW, then nothing
  };
  EXPECT_FALSE(SenderReport::parse(*header_of(bytes)));
}

TEST(ReceiverReport, ParsesReportBlock) {
  const auto bytes = heap_copy(test::kReceiverReport);
  const auto rr = ReceiverReport::parse(*header_of(bytes));
  ASSERT_TRUE(rr);
  EXPECT_EQ(rr->sender_ssrc, 0x11111111U);
  ASSERT_EQ(rr->report_blocks.size(), 1U);
  EXPECT_EQ(rr->report_blocks[0].source_ssrc, 0x22222222U);
  EXPECT_EQ(rr->report_blocks[0].cumulative_lost, 5);
  EXPECT_EQ(rr->report_blocks[0].extended_highest_sequence, 0x1234U);
  EXPECT_EQ(rr->report_blocks[0].jitter, 16U);
  EXPECT_FALSE(SenderReport::parse(*header_of(bytes)));  // not an SR
}

TEST(ReceiverReport, RejectsTruncatedReportBlock) {
  auto bytes = heap_copy(std::span(test::kReceiverReport).first(28));
  bytes[3] = 0x06;  // length=6: the block is 4 octets short
  const auto header = header_of(bytes);
  ASSERT_TRUE(header);
  EXPECT_FALSE(ReceiverReport::parse(*header));
}

TEST(Sdes, ParsesCnameChunk) {
  const auto bytes = heap_copy(test::kSdesCname);
  const auto sdes = Sdes::parse(*header_of(bytes));
  ASSERT_TRUE(sdes);
  ASSERT_EQ(sdes->chunks.size(), 1U);
  EXPECT_EQ(sdes->chunks[0].ssrc, 0x12345678U);
  ASSERT_EQ(sdes->chunks[0].items.size(), 1U);
  EXPECT_EQ(sdes->chunks[0].items[0].type, SdesItemType::kCname);
  EXPECT_EQ(sdes->chunks[0].cname(), "user@example");
}

TEST(Sdes, RejectsItemLongerThanBody) {
  auto bytes = heap_copy(test::kSdesCname);
  bytes[9] = 0x20;  // CNAME length 32 runs past the packet
  EXPECT_FALSE(Sdes::parse(*header_of(bytes)));
}

TEST(Sdes, RejectsChunkWithoutTerminator) {
  const std::vector<std::uint8_t> bytes = {
      0x81, 0xCA, 0x00, 0x02,  // SDES, SC=1, length=2
      0x12, 0x34, 0x56, 0x78,  // SSRC
      0x01, 0x02, 'a',  'b',   // CNAME "ab" and no null octet after it
  };
  EXPECT_FALSE(Sdes::parse(*header_of(bytes)));
}

TEST(Sdes, RejectsMoreChunksThanPresent) {
  auto bytes = heap_copy(test::kSdesCname);
  bytes[0] = 0x82;  // SC=2
  EXPECT_FALSE(Sdes::parse(*header_of(bytes)));
}

TEST(Bye, ParsesSsrcAndReason) {
  const auto bytes = heap_copy(test::kByeWithReason);
  const auto bye = Bye::parse(*header_of(bytes));
  ASSERT_TRUE(bye);
  EXPECT_EQ(bye->ssrcs, (std::vector<std::uint32_t>{0x12345678U}));
  EXPECT_EQ(bye->reason, "shutdown");
}

TEST(Bye, RejectsReasonLongerThanBody) {
  auto bytes = heap_copy(test::kByeWithReason);
  bytes[8] = 0x0C;  // reason length 12, only 11 octets follow
  EXPECT_FALSE(Bye::parse(*header_of(bytes)));
}

TEST(App, ParsesSubtypeNameAndData) {
  const auto bytes = heap_copy(test::kApp);
  const auto app = App::parse(*header_of(bytes));
  ASSERT_TRUE(app);
  EXPECT_EQ(app->subtype, 5);
  EXPECT_EQ(app->ssrc, 0x12345678U);
  EXPECT_EQ(std::string_view(app->name.data(), 4), "CHRS");
  EXPECT_EQ(app->data.size(), 4U);
  EXPECT_EQ(app->data[0], 0xDE);
}

TEST(App, RejectsMissingName) {
  const std::vector<std::uint8_t> bytes = {
      0x80, 0xCC, 0x00, 0x01,  // APP, length=1
      0x12, 0x34, 0x56, 0x78,  // SSRC, no name
  };
  EXPECT_FALSE(App::parse(*header_of(bytes)));
}

}  // namespace report_packets_test
}  // namespace chorus::media::rtcp
