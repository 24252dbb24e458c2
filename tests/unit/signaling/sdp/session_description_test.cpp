// The typed helpers of the SDP model: rtpmap, static payload types, fmtp, ptime, direction,
// rtcp, rtcp-mux, mid, protocol and media classification.
#include <gtest/gtest.h>

#include "signaling/sdp/sdp_parser.hpp"
#include "signaling/sdp/session_description.hpp"

namespace chorus::sdp {
namespace session_description_test {

MediaDescription parse_media(std::string_view media_lines, std::string_view session_attributes = {}) {
  std::string text = "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n";
  text += session_attributes;
  text += media_lines;
  auto sd = parse_sdp(text);
  if (!sd) {
    ADD_FAILURE() << sd.error();
    return {};
  }
  return sd->media.at(0);
}

TEST(RtpMap, ParsesEncodingClockAndChannels) {
  auto opus = parse_rtpmap("96 opus/48000/2");
  ASSERT_TRUE(opus);
  EXPECT_EQ(opus->payload_type, 96);
  EXPECT_EQ(opus->encoding, "opus");
  EXPECT_EQ(opus->clock_rate, 48000);
  EXPECT_EQ(opus->channels, 2);
  auto pcmu = parse_rtpmap("0 PCMU/8000");
  ASSERT_TRUE(pcmu);
  EXPECT_EQ(pcmu->channels, 1);
}

TEST(RtpMap, RefusesMalformedValues) {
  EXPECT_FALSE(parse_rtpmap(""));
  EXPECT_FALSE(parse_rtpmap("96"));
  EXPECT_FALSE(parse_rtpmap("128 opus/48000/2"));
  EXPECT_FALSE(parse_rtpmap("x opus/48000"));
  EXPECT_FALSE(parse_rtpmap("96 opus"));
  EXPECT_FALSE(parse_rtpmap("96 /8000"));
  EXPECT_FALSE(parse_rtpmap("96 opus/0"));
  EXPECT_FALSE(parse_rtpmap("96 opus/fast"));
}

TEST(StaticPayloadTypes, FollowRfc3551) {
  EXPECT_EQ(static_payload_type(0)->encoding, "PCMU");
  EXPECT_EQ(static_payload_type(8)->encoding, "PCMA");
  EXPECT_EQ(static_payload_type(9)->encoding, "G722");
  EXPECT_EQ(static_payload_type(9)->clock_rate, 8000);  // RFC 3551 §4.5.2: 8000 by history
  EXPECT_FALSE(static_payload_type(96));
  EXPECT_EQ(static_payload_type_for("pcmu", 8000, 1), 0);
  EXPECT_EQ(static_payload_type_for("G722", 8000, 1), 9);
  EXPECT_FALSE(static_payload_type_for("opus", 48000, 2));
}

TEST(MediaDescription, MapsFormatsThroughRtpmapOrStaticTable) {
  MediaDescription m = parse_media("m=audio 4000 RTP/AVP 0 18 97\na=rtpmap:97 iLBC/8000\n");
  EXPECT_EQ(m.payload_mapping("0")->encoding, "PCMU");  // no rtpmap: RFC 3551 static
  EXPECT_EQ(m.payload_mapping("18")->encoding, "G729");
  EXPECT_EQ(m.payload_mapping("97")->encoding, "iLBC");
  EXPECT_FALSE(m.payload_mapping("98"));
  EXPECT_FALSE(m.rtpmap("0"));
  EXPECT_EQ(m.rtpmaps(), (std::vector<RtpMap>{{97, "iLBC", 8000, 1}}));
}

TEST(MediaDescription, ReadsFmtpByPayloadType) {
  MediaDescription m = parse_media("m=audio 4000 RTP/AVP 96 101\na=fmtp:96 stereo=1;sprop-stereo=1\na=fmtp:101 0-16\n");
  EXPECT_EQ(m.fmtp("96"), "stereo=1;sprop-stereo=1");
  EXPECT_EQ(m.fmtp("101"), "0-16");
  EXPECT_FALSE(m.fmtp("9"));
  EXPECT_FALSE(m.fmtp("10"));  // "101" is not "10"
}

TEST(MediaDescription, ReadsPtimeAndMaxptime) {
  MediaDescription m = parse_media("m=audio 4000 RTP/AVP 0\na=ptime:30\na=maxptime:60\n");
  EXPECT_EQ(m.ptime(), 30);
  EXPECT_EQ(m.maxptime(), 60);
  EXPECT_EQ(parse_media("m=audio 4000 RTP/AVP 0\na=ptime:20.0\n").ptime(), 20);
  EXPECT_FALSE(parse_media("m=audio 4000 RTP/AVP 0\na=ptime:soon\n").ptime());
  EXPECT_FALSE(parse_media("m=audio 4000 RTP/AVP 0\n").ptime());
}

TEST(MediaDescription, ReadsRtcpMuxRtcpAndMid) {
  MediaDescription m = parse_media("m=audio 4000 RTP/AVP 0\na=rtcp:4001 IN IP6 2001:db8::9\na=rtcp-mux\na=mid:audio\n");
  EXPECT_TRUE(m.rtcp_mux());
  ASSERT_TRUE(m.rtcp());
  EXPECT_EQ(m.rtcp()->port, 4001);
  EXPECT_EQ(m.rtcp()->connection->address, "2001:db8::9");
  EXPECT_EQ(m.mid(), "audio");
  MediaDescription bare = parse_media("m=audio 4000 RTP/AVP 0\na=rtcp:53020\n");
  EXPECT_EQ(bare.rtcp()->port, 53020);
  EXPECT_FALSE(bare.rtcp()->connection);
  EXPECT_FALSE(bare.rtcp_mux());
}

TEST(SessionDescription, MediaDirectionOverridesSessionDirection) {
  auto sd = parse_sdp(
      "v=0\no=- 1 1 IN IP4 a\ns=-\nt=0 0\na=sendonly\nm=audio 4000 RTP/AVP 0\n"
      "m=audio 4002 RTP/AVP 0\na=inactive\nm=audio 4004 RTP/AVP 0\n");
  ASSERT_TRUE(sd) << sd.error();
  EXPECT_EQ(sd->effective_direction(sd->media[0]), Direction::kSendOnly);
  EXPECT_EQ(sd->effective_direction(sd->media[1]), Direction::kInactive);
  sd->remove_attributes("sendonly");
  EXPECT_EQ(sd->effective_direction(sd->media[2]), Direction::kSendRecv);
}

TEST(SessionDescription, SetDirectionReplacesTheAttribute) {
  MediaDescription m = parse_media("m=audio 4000 RTP/AVP 0\na=sendrecv\na=ptime:20\n");
  m.set_direction(Direction::kInactive);
  EXPECT_EQ(m.direction(), Direction::kInactive);
  EXPECT_FALSE(m.has_attribute("sendrecv"));
  EXPECT_EQ(m.attributes.size(), 2u);
}

TEST(Direction, ReversesForTheAnswer) {
  EXPECT_EQ(reverse(Direction::kSendOnly), Direction::kRecvOnly);
  EXPECT_EQ(reverse(Direction::kRecvOnly), Direction::kSendOnly);
  EXPECT_EQ(reverse(Direction::kSendRecv), Direction::kSendRecv);
  EXPECT_EQ(reverse(Direction::kInactive), Direction::kInactive);
  EXPECT_EQ(to_string(Direction::kRecvOnly), "recvonly");
  EXPECT_EQ(direction_from_name("SENDONLY"), Direction::kSendOnly);
}

TEST(TransportProtocol, ClassifiesRtpProfiles) {
  EXPECT_EQ(classify_protocol("RTP/AVP"), TransportProtocol::kRtpAvp);
  EXPECT_EQ(classify_protocol("RTP/AVPF"), TransportProtocol::kRtpAvpf);
  EXPECT_EQ(classify_protocol("UDP/TLS/RTP/SAVPF"), TransportProtocol::kUdpTlsRtpSavpf);
  EXPECT_EQ(classify_protocol("TCP/MSRP"), TransportProtocol::kOther);
  EXPECT_TRUE(is_secure(TransportProtocol::kRtpSavp));
  EXPECT_FALSE(is_secure(TransportProtocol::kRtpAvpf));
  EXPECT_FALSE(is_secure(TransportProtocol::kOther));
  EXPECT_TRUE(has_rtcp_feedback(TransportProtocol::kRtpAvpf));
  EXPECT_FALSE(has_rtcp_feedback(TransportProtocol::kRtpSavp));
}

TEST(MediaType, KeepsUnknownMediaAsText) {
  MediaDescription m = parse_media("m=x-holo 4000 RTP/AVP 96\n");
  EXPECT_EQ(m.type(), MediaType::kOther);
  EXPECT_EQ(m.media, "x-holo");
  EXPECT_EQ(classify_media("video"), MediaType::kVideo);
}

TEST(Connection, RecognisesUnspecifiedAndFamilies) {
  EXPECT_TRUE(make_connection("0.0.0.0").is_unspecified());
  EXPECT_TRUE(make_connection("::").is_unspecified());
  EXPECT_FALSE(make_connection("192.0.2.1").is_unspecified());
  Connection v6 = make_connection("[2001:db8::1]");
  EXPECT_TRUE(v6.is_ipv6());
  EXPECT_EQ(v6.address, "2001:db8::1");
  EXPECT_EQ(make_connection("192.0.2.1").address_type, "IP4");
}

}  // namespace session_description_test
}  // namespace chorus::sdp
