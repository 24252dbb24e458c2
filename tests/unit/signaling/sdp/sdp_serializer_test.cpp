// serialize_sdp(): byte-exact round trips of real descriptions, CRLF output, RFC 8866 §5 order.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "signaling/sdp/sdp_parser.hpp"
#include "signaling/sdp/sdp_serializer.hpp"

namespace chorus::sdp {
namespace sdp_serializer_test {

// baresip 1.0.0 with mediaenc=srtp-mand (SDES, RFC 4568), captured on loopback.
constexpr std::string_view kBaresipSrtpOffer =
    "v=0\r\n"
    "o=- 100322564 1602273050 IN IP4 192.0.2.2\r\n"
    "s=-\r\n"
    "c=IN IP4 192.0.2.2\r\n"
    "t=0 0\r\n"
    "a=tool:baresip 1.0.0\r\n"
    "m=audio 48176 RTP/SAVP 0 8 96 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:96 opus/48000/2\r\n"
    "a=fmtp:96 stereo=1;sprop-stereo=1\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-15\r\n"
    "a=sendrecv\r\n"
    "a=label:1\r\n"
    "a=rtcp-rsize\r\n"
    "a=ssrc:1860727207 cname:sip:alice@127.0.0.1:5073\r\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:ep2B2bhKULlGRbI2aSsi9kxC9tMUOs0AHkgiQX/u\r\n"
    "a=minptime:20\r\n"
    "a=ptime:20\r\n";

constexpr std::string_view kSippOffer =
    "v=0\r\n"
    "o=user1 53655765 2353687637 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "c=IN IP4 127.0.0.1\r\n"
    "t=0 0\r\n"
    "m=audio 6000 RTP/AVP 0\r\n"
    "a=rtpmap:0 PCMU/8000\r\n";

// The shape of a Chrome offer (audio + video bundle, DTLS-SRTP, ICE, rtcp-mux).
constexpr std::string_view kWebRtcOffer =
    "v=0\r\n"
    "o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0 1\r\n"
    "a=extmap-allow-mixed\r\n"
    "a=msid-semantic: WMS stream1\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:Hk3f\r\n"
    "a=ice-pwd:p2xWJ4vUbn2Dk1zdwlT8IJ7O\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 "
    "7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08\r\n"
    "a=setup:actpass\r\n"
    "a=mid:0\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=sendrecv\r\n"
    "a=msid:stream1 track1\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=rtcp-fb:111 transport-cc\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:63 red/48000/2\r\n"
    "a=fmtp:63 111/111\r\n"
    "a=rtpmap:9 G722/8000\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:13 CN/8000\r\n"
    "a=rtpmap:110 telephone-event/48000\r\n"
    "a=rtpmap:126 telephone-event/8000\r\n"
    "a=ssrc:1001 cname:f8Yq2yGvM3W6zfKD\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:Hk3f\r\n"
    "a=ice-pwd:p2xWJ4vUbn2Dk1zdwlT8IJ7O\r\n"
    "a=fingerprint:sha-256 "
    "7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08\r\n"
    "a=setup:actpass\r\n"
    "a=mid:1\r\n"
    "a=sendrecv\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\n"
    "a=rtpmap:97 rtx/90000\r\n"
    "a=fmtp:97 apt=96\r\n";

constexpr std::string_view kIpv6Offer =
    "v=0\r\n"
    "o=- 20518 0 IN IP6 2001:db8::2\r\n"
    "s=-\r\n"
    "c=IN IP6 2001:db8::2\r\n"
    "t=0 0\r\n"
    "m=audio 54400 RTP/AVP 0 101\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-16\r\n"
    "a=ptime:20\r\n";

std::string body_of(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  std::string message = text.str();
  auto blank = message.find("\r\n\r\n");
  return blank == std::string::npos ? std::string() : message.substr(blank + 4);
}

void expect_round_trip(std::string_view text, std::string_view expected) {
  auto sd = parse_sdp(text);
  ASSERT_TRUE(sd) << sd.error();
  EXPECT_EQ(serialize_sdp(*sd), expected);
}

void expect_round_trip(std::string_view text) {
  expect_round_trip(text, text);
}

TEST(SdpSerializer, RoundTripsBaresipSrtpOfferByteForByte) {
  expect_round_trip(kBaresipSrtpOffer);
}

TEST(SdpSerializer, RoundTripsSippOfferByteForByte) {
  expect_round_trip(kSippOffer);
}

TEST(SdpSerializer, RoundTripsWebRtcOfferByteForByte) {
  expect_round_trip(kWebRtcOffer);
}

TEST(SdpSerializer, RoundTripsIpv6OfferByteForByte) {
  expect_round_trip(kIpv6Offer);
}

TEST(SdpSerializer, RoundTripsRfc5118Bodies) {
  const auto dir = std::filesystem::path(CHORUS_SHARED_DIR) / "conformance" / "rfc5118";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "no ../shared/conformance: " << dir;
  for (const char* name : {"ipv6-in-sdp", "ipv4-mapped-ipv6"}) {
    SCOPED_TRACE(name);
    expect_round_trip(body_of(dir / name));
  }
  // Its empty "s=" breaks RFC 8866 §5.3 (one character at least); we write the "-" it asks for.
  std::string mixed = body_of(dir / "mult-ip-in-sdp");
  std::string fixed = mixed;
  fixed.replace(fixed.find("s=\r\n"), 4, "s=-\r\n");
  expect_round_trip(mixed, fixed);
}

TEST(SdpSerializer, WritesCrlfForBareLineFeedInput) {
  auto sd = parse_sdp("v=0\no=- 1 2 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\nm=audio 4000 RTP/AVP 0\n");
  ASSERT_TRUE(sd) << sd.error();
  EXPECT_EQ(serialize_sdp(*sd),
            "v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n");
}

TEST(SdpSerializer, WritesRfc8866OrderWhateverTheInputOrder) {
  // Session-level lines out of order are accepted and written in RFC 8866 §5 order.
  auto sd = parse_sdp(
      "v=0\na=recvonly\nt=0 0\nc=IN IP4 192.0.2.1\nb=AS:64\ns=name\no=- 1 2 IN IP4 192.0.2.1\ne=x@example.com\n"
      "m=audio 4000 RTP/AVP 0\na=ptime:30\nb=AS:32\nc=IN IP4 192.0.2.9\ni=title\n");
  ASSERT_TRUE(sd) << sd.error();
  EXPECT_EQ(serialize_sdp(*sd),
            "v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=name\r\ne=x@example.com\r\nc=IN IP4 192.0.2.1\r\nb=AS:64\r\n"
            "t=0 0\r\na=recvonly\r\nm=audio 4000 RTP/AVP 0\r\ni=title\r\nc=IN IP4 192.0.2.9\r\nb=AS:32\r\n"
            "a=ptime:30\r\n");
}

TEST(SdpSerializer, FillsRequiredNameAndTiming) {
  auto sd = parse_sdp("v=0\no=- 1 2 IN IP4 192.0.2.1\nm=audio 4000/2 RTP/AVP 0\n");
  ASSERT_TRUE(sd) << sd.error();
  EXPECT_EQ(serialize_sdp(*sd), "v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 4000/2 RTP/AVP 0\r\n");
}

TEST(SdpSerializer, WritesBuiltModel) {
  SessionDescription sd;
  sd.origin = Origin{"chorus", "42", "7", "IN", "IP6", "2001:db8::5"};
  sd.session_name = "Chorus";
  sd.connection = make_connection("[2001:db8::5]");
  MediaDescription& m = sd.media.emplace_back();
  m.media = "audio";
  m.port = 20000;
  m.protocol = "RTP/AVP";
  m.formats = {"0"};
  m.add_attribute("rtpmap", "0 PCMU/8000");
  m.set_direction(Direction::kRecvOnly);
  EXPECT_EQ(serialize_sdp(sd),
            "v=0\r\no=chorus 42 7 IN IP6 2001:db8::5\r\ns=Chorus\r\nc=IN IP6 2001:db8::5\r\nt=0 0\r\n"
            "m=audio 20000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=recvonly\r\n");
}

TEST(SdpSerializer, KeepsUnknownLinesAtTheEndOfTheirSection) {
  constexpr std::string_view kGb28181 =
      "v=0\r\no=34020000001320000001 0 0 IN IP4 192.0.2.7\r\ns=Play\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\n"
      "m=video 6000 RTP/AVP 96\r\na=recvonly\r\na=rtpmap:96 PS/90000\r\ny=0100000001\r\n";
  expect_round_trip(kGb28181);
}

}  // namespace sdp_serializer_test
}  // namespace chorus::sdp
