// Parsers of a=extmap (RFC 8285 §5), a=rtcp-fb (RFC 4585 §4.2), a=ssrc / a=ssrc-group (RFC 5576
// §4.1, §4.2), a=msid (RFC 8830 §2) and a=content (RFC 4796 §4), on values clients send and on
// malformed ones.
#include "signaling/sdp/rtp_attributes.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace chorus::sdp {
namespace rtp_attributes_test {

TEST(Extmap, ReadsIdAndUri) {
  auto e = parse_extmap("3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01");
  ASSERT_TRUE(e) << e.error();
  EXPECT_EQ(e->id, 3);
  EXPECT_FALSE(e->direction);
  EXPECT_EQ(e->uri, kTransportWideCcUri);
  EXPECT_EQ(e->attributes, "");
}

TEST(Extmap, ReadsDirectionAndExtensionAttributes) {
  auto e = parse_extmap("6/recvonly http://www.webrtc.org/experiments/rtp-hdrext/playout-delay");
  ASSERT_TRUE(e) << e.error();
  EXPECT_EQ(e->direction, Direction::kRecvOnly);
  // RFC 8285 §5 example: extension attributes follow the URI.
  auto with_attributes = parse_extmap("12/sendrecv urn:example:ext  some attributes here");
  ASSERT_TRUE(with_attributes);
  EXPECT_EQ(with_attributes->id, 12);
  EXPECT_EQ(with_attributes->direction, Direction::kSendRecv);
  EXPECT_EQ(with_attributes->uri, "urn:example:ext");
  EXPECT_EQ(with_attributes->attributes, "some attributes here");
}

TEST(Extmap, AcceptsTwoByteIdsUpTo255) {
  auto e = parse_extmap("255 urn:example:two-byte");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->id, 255);
  EXPECT_EQ(parse_extmap("15 urn:x")->id, 15);  // legal in the two-byte form (§4.3)
}

struct BadValue {
  const char* name;
  std::string_view value;
  std::string_view reason;
};

class ExtmapRefuses : public ::testing::TestWithParam<BadValue> {};

TEST_P(ExtmapRefuses, MalformedValue) {
  auto e = parse_extmap(GetParam().value);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error(), GetParam().reason);
}

INSTANTIATE_TEST_SUITE_P(Rfc8285, ExtmapRefuses,
                         ::testing::Values(BadValue{"IdZero", "0 urn:x", "extmap id is not 1-255"},
                                           BadValue{"Id256", "256 urn:x", "extmap id is not 1-255"},
                                           BadValue{"SixDigits", "000001 urn:x", "extmap id is not 1-255"},
                                           BadValue{"Negative", "-1 urn:x", "extmap id is not 1-255"},
                                           BadValue{"NotNumber", "x urn:x", "extmap id is not 1-255"},
                                           BadValue{"NoUri", "3", "extmap has no extension URI"},
                                           BadValue{"Empty", "", "extmap has no extension URI"},
                                           BadValue{"BadDirection", "3/both urn:x", "extmap direction is unknown"},
                                           BadValue{"UpperCaseDirection", "3/SENDONLY urn:x",
                                                    "extmap direction is unknown"},
                                           BadValue{"EmptyDirection", "3/ urn:x", "extmap direction is unknown"}),
                         [](const ::testing::TestParamInfo<BadValue>& info) { return std::string(info.param.name); });

TEST(RtcpFb, ReadsPayloadTypeTypeAndParameter) {
  auto fb = parse_rtcp_fb("96 nack pli");
  ASSERT_TRUE(fb) << fb.error();
  EXPECT_EQ(fb->payload_type, 96);
  EXPECT_EQ(fb->type, "nack");
  EXPECT_EQ(fb->parameter, "pli");
  auto remb = parse_rtcp_fb("96 goog-remb");
  ASSERT_TRUE(remb);
  EXPECT_EQ(remb->parameter, "");
}

TEST(RtcpFb, ReadsWildcardForEveryFormat) {
  auto fb = parse_rtcp_fb("* ccm fir");
  ASSERT_TRUE(fb);
  EXPECT_FALSE(fb->payload_type);
  EXPECT_EQ(fb->type, "ccm");
  EXPECT_EQ(fb->parameter, "fir");
  EXPECT_EQ(parse_rtcp_fb("* trr-int 100")->parameter, "100");
}

TEST(RtcpFb, RefusesMalformedValues) {
  EXPECT_EQ(parse_rtcp_fb("").error(), "rtcp-fb format is neither * nor a payload type");
  EXPECT_EQ(parse_rtcp_fb("128 nack").error(), "rtcp-fb format is neither * nor a payload type");
  EXPECT_EQ(parse_rtcp_fb("** nack").error(), "rtcp-fb format is neither * nor a payload type");
  EXPECT_EQ(parse_rtcp_fb("96").error(), "rtcp-fb has no feedback type");
  EXPECT_EQ(parse_rtcp_fb("96 na\"ck").error(), "rtcp-fb feedback type is not a token");
}

TEST(Ssrc, ReadsIdAttributeAndValue) {
  auto s = parse_ssrc("4294967295 cname:sip:alice@192.0.2.2:5072");
  ASSERT_TRUE(s) << s.error();
  EXPECT_EQ(s->ssrc, 4294967295u);
  EXPECT_EQ(s->attribute, "cname");
  EXPECT_EQ(s->value, "sip:alice@192.0.2.2:5072");  // the value keeps its own colons
  auto bare = parse_ssrc("1 x-flag");
  ASSERT_TRUE(bare);
  EXPECT_FALSE(bare->value);
}

TEST(Ssrc, RefusesMalformedValues) {
  EXPECT_EQ(parse_ssrc("4294967296 cname:x").error(), "ssrc id is not a 32-bit number");
  EXPECT_EQ(parse_ssrc("abc cname:x").error(), "ssrc id is not a 32-bit number");
  EXPECT_EQ(parse_ssrc("12").error(), "ssrc has no attribute");
  EXPECT_EQ(parse_ssrc("12 :x").error(), "ssrc attribute name is not a token");
}

TEST(SsrcGroup, ReadsSemanticsAndMembers) {
  auto g = parse_ssrc_group("FID 1404093325 1727003391");
  ASSERT_TRUE(g) << g.error();
  EXPECT_EQ(*g, (SsrcGroup{"FID", {1404093325u, 1727003391u}}));
  EXPECT_EQ(parse_ssrc_group("SIM 1 2 3")->ssrcs.size(), 3u);
}

TEST(SsrcGroup, RefusesMalformedAndOversizedGroups) {
  EXPECT_EQ(parse_ssrc_group("").error(), "ssrc-group has no semantics");
  EXPECT_EQ(parse_ssrc_group("FID").error(), "ssrc-group names no SSRC");
  EXPECT_EQ(parse_ssrc_group("FID 1 x").error(), "ssrc-group member is not a 32-bit number");
  std::string many = "SIM";
  for (int i = 0; i <= static_cast<int>(kMaxSsrcsPerGroup); ++i) many.append(" ").append(std::to_string(i));
  EXPECT_EQ(parse_ssrc_group(many).error(), "ssrc-group has too many SSRCs");
}

TEST(Msid, ReadsStreamAndTrack) {
  auto m = parse_msid("5f0a2b9c-3d4e-4f60-8a1b-2c3d4e5f6a7b 0b6d3a4e-1f2a-4b3c-9d8e-7f6a5b4c3d2e");
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->stream_id, "5f0a2b9c-3d4e-4f60-8a1b-2c3d4e5f6a7b");
  EXPECT_EQ(m->track_id, "0b6d3a4e-1f2a-4b3c-9d8e-7f6a5b4c3d2e");
  EXPECT_EQ(parse_msid("- track")->stream_id, "-");                // JSEP: a track without a stream
  EXPECT_EQ(parse_msid("{7e2b1c3d} {1a2b}")->track_id, "{1a2b}");  // Firefox's braces are token-chars
  EXPECT_EQ(parse_msid("stream")->track_id, "");
}

TEST(Msid, RefusesMalformedValues) {
  EXPECT_EQ(parse_msid("").error(), "msid has no id");
  EXPECT_EQ(parse_msid("a b c").error(), "msid has more than two fields");
  EXPECT_EQ(parse_msid(std::string(65, 'a')).error(), "msid field longer than 64 characters");
  EXPECT_EQ(parse_msid("a\"b").error(), "msid field is not a token");
}

TEST(Content, ReadsOneOrSeveralValues) {
  EXPECT_EQ(*parse_content("main"), std::vector<std::string_view>{"main"});
  EXPECT_EQ(*parse_content("slides,speaker"), (std::vector<std::string_view>{"slides", "speaker"}));
  EXPECT_EQ(parse_content("").error(), "content has no value");
  EXPECT_EQ(parse_content("main,").error(), "content value is not a token");
  EXPECT_EQ(parse_content("ma in").error(), "content value is not a token");
  EXPECT_EQ(parse_content("a,b,c,d,e,f,g,h,i").error(), "content has too many values");
}

}  // namespace rtp_attributes_test
}  // namespace chorus::sdp
