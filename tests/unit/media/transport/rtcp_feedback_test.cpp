// parse_feedback and feedback_media_ssrc: which RTCP feedback an engine is handed, and which of our
// streams it is about. TMMBR (RFC 5104 §4.2.1) is one of them: room systems limit the bit rate of
// what we send them with it, and its FCI entry, not the header, names the stream it limits.
#include "media/transport/rtcp_feedback.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "media/rtcp/tmmbr.hpp"
#include "tests/unit/media/rtcp/rtcp_test_vectors.hpp"

namespace chorus::media {
namespace rtcp_feedback_test {

std::optional<RtcpFeedback> parsed(std::span<const std::uint8_t> bytes) {
  auto header = rtcp::RtcpHeader::parse(bytes);
  if (!header) return std::nullopt;
  return parse_feedback(*header);
}

TEST(RtcpFeedback, TmmbrIsParsedAndAboutTheStreamItsEntryNames) {
  const auto bytes = rtcp::test::heap_copy(rtcp::test::kTmmbr);
  const auto feedback = parsed(bytes);
  ASSERT_TRUE(feedback.has_value());
  const auto* tmmbr = std::get_if<rtcp::Tmmbr>(&*feedback);
  ASSERT_NE(tmmbr, nullptr);
  EXPECT_EQ(tmmbr->sender_ssrc, 1U);
  ASSERT_EQ(tmmbr->items.size(), 1U);
  EXPECT_EQ(tmmbr->items[0].bitrate_bps, 256000U);
  EXPECT_EQ(tmmbr->items[0].overhead, 40);
  // RFC 5104 §4.2.1.1: the header's media SSRC is 0; the entry names the media sender.
  EXPECT_EQ(feedback_media_ssrc(*feedback), 0xAABBCCDDU);
}

TEST(RtcpFeedback, ATmmbrWithSeveralEntriesIsAboutItsFirst) {
  const rtcp::Tmmbr sent{0x1111, {rtcp::TmmbItem{0x2222, 400000, 28}, rtcp::TmmbItem{0x3333, 64000, 40}}};
  std::array<std::uint8_t, 64> buffer{};
  const auto length = sent.write(buffer);
  ASSERT_TRUE(length.has_value());
  const auto feedback = parsed(std::span(buffer).first(*length));
  ASSERT_TRUE(feedback.has_value());
  ASSERT_TRUE(std::holds_alternative<rtcp::Tmmbr>(*feedback));
  EXPECT_EQ(std::get<rtcp::Tmmbr>(*feedback), sent);
  EXPECT_EQ(feedback_media_ssrc(*feedback), 0x2222U);
}

}  // namespace rtcp_feedback_test
}  // namespace chorus::media
