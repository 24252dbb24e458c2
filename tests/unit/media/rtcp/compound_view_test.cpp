// CompoundView and RtcpHeader: the RFC 3550 A.2 walk over compound packets, reduced-size RTCP
// (RFC 5506), and malformed datagrams rejected without reading past the buffer (every input is an
// exact-size heap copy, so AddressSanitizer would report an overread).
#include <gtest/gtest.h>

#include <vector>

#include "media/rtcp/bye.hpp"
#include "media/rtcp/generic_nack.hpp"
#include "media/rtcp/rtcp_header.hpp"
#include "media/rtcp/sdes.hpp"
#include "media/rtcp/sender_report.hpp"
#include "tests/unit/media/rtcp/rtcp_test_vectors.hpp"

namespace chorus::media::rtcp {
namespace compound_view_test {

using test::concat;
using test::heap_copy;

TEST(CompoundView, WalksSenderReportSdesAndByeInOrder) {
  const auto datagram = concat({test::kSenderReport, test::kSdesCname, test::kByeWithReason});
  const auto view = CompoundView::parse(datagram);
  ASSERT_TRUE(view);
  EXPECT_FALSE(view->reduced_size());
  EXPECT_EQ(view->packet_count(), 3U);

  std::vector<std::uint8_t> types;
  std::vector<std::size_t> sizes;
  for (const RtcpHeader& header : *view) {
    types.push_back(header.raw_type());
    sizes.push_back(header.size());
  }
  EXPECT_EQ(types, (std::vector<std::uint8_t>{200, 202, 203}));
  EXPECT_EQ(sizes, (std::vector<std::size_t>{52, 24, 20}));

  auto it = view->begin();
  const auto sr = SenderReport::parse(*it++);
  const auto sdes = Sdes::parse(*it++);
  const auto bye = Bye::parse(*it++);
  EXPECT_TRUE(it == view->end());
  ASSERT_TRUE(sr && sdes && bye);
  EXPECT_EQ(sr->sender_ssrc, 0x12345678U);
  EXPECT_EQ(sdes->chunks.at(0).cname(), "user@example");
  EXPECT_EQ(bye->reason, "shutdown");
}

TEST(CompoundView, AcceptsReducedSizeFeedbackWithoutLeadingReport) {
  const auto datagram = heap_copy(test::kGenericNack);
  const auto view = CompoundView::parse(datagram);
  ASSERT_TRUE(view);
  EXPECT_TRUE(view->reduced_size());
  EXPECT_EQ(view->packet_count(), 1U);
  EXPECT_TRUE(GenericNack::parse(*view->begin()));
}

TEST(CompoundView, RejectsEmptyDatagram) {
  EXPECT_FALSE(CompoundView::parse(std::span<const std::uint8_t>{}));
}

TEST(CompoundView, RejectsLengthBeyondBuffer) {
  // The RR announces 32 octets; only its first 16 arrived.
  const auto datagram = heap_copy(std::span(test::kReceiverReport).first(16));
  EXPECT_FALSE(CompoundView::parse(datagram));
  EXPECT_FALSE(RtcpHeader::parse(datagram));
}

TEST(CompoundView, RejectsVersionOne) {
  auto datagram = heap_copy(test::kReceiverReport);
  datagram[0] = 0x41;  // V=1 RC=1
  EXPECT_FALSE(CompoundView::parse(datagram));
}

TEST(CompoundView, RejectsRtpPayloadTypeRange) {
  auto datagram = heap_copy(test::kReceiverReport);
  datagram[1] = 0x60;  // an RTP header with PT 96, not RTCP (RFC 5761 §4)
  EXPECT_FALSE(CompoundView::parse(datagram));
}

TEST(CompoundView, RejectsTrailingOctetsShorterThanAHeader) {
  auto datagram = heap_copy(test::kReceiverReport);
  datagram.push_back(0x80);
  datagram.push_back(0xC9);
  EXPECT_FALSE(CompoundView::parse(datagram));
}

TEST(CompoundView, ZeroLengthPacketsEndTheWalkAndFailTypedParsing) {
  // Three RRs with length field 0: each is one word long, so the walk always advances.
  const std::vector<std::uint8_t> datagram = {
      0x80, 0xC9, 0x00, 0x00,  // RR, RC=0, length=0
      0x80, 0xC9, 0x00, 0x00,  // RR, RC=0, length=0
      0x80, 0xC9, 0x00, 0x00,  // RR, RC=0, length=0
  };
  const auto view = CompoundView::parse(datagram);
  ASSERT_TRUE(view);
  EXPECT_EQ(view->packet_count(), 3U);
  for (const RtcpHeader& header : *view) EXPECT_FALSE(ReceiverReport::parse(header));  // no SSRC
}

TEST(CompoundView, RejectsPaddingBeforeTheLastPacket) {
  auto datagram = concat({test::kReceiverReport, test::kSdesCname});
  datagram[0] |= 0x20;  // P bit on the RR
  datagram[31] = 0x04;  // and a plausible padding count at its end
  EXPECT_FALSE(CompoundView::parse(datagram));
}

TEST(CompoundView, AcceptsPaddingInTheLastPacketAndStripsIt) {
  std::vector<std::uint8_t> datagram = {
      0xA0, 0xCB, 0x00, 0x02,  // V=2 P=1 SC=0, PT=203 (BYE), length=2
      0x00, 0x00, 0x00, 0x00,  // padding
      0x00, 0x00, 0x00, 0x08,  // padding, count 8
  };
  const auto view = CompoundView::parse(datagram);
  ASSERT_TRUE(view);
  EXPECT_TRUE(view->begin().operator*().body().empty());
  const auto bye = Bye::parse(*view->begin());
  ASSERT_TRUE(bye);
  EXPECT_TRUE(bye->ssrcs.empty());
  EXPECT_TRUE(bye->reason.empty());
}

TEST(CompoundView, RejectsPaddingCountBeyondThePacket) {
  std::vector<std::uint8_t> datagram = {
      0xA0, 0xCB, 0x00, 0x01,  // V=2 P=1, BYE, length=1
      0x00, 0x00, 0x00, 0x09,  // padding count 9 > 4 octets of body
  };
  EXPECT_FALSE(CompoundView::parse(datagram));
  datagram[7] = 0x00;  // a zero padding count is invalid too
  EXPECT_FALSE(CompoundView::parse(datagram));
}

}  // namespace compound_view_test
}  // namespace chorus::media::rtcp
