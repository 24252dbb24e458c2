// parse_sdp(): real offers from real peers, the RFC 5118 IPv6 bodies, and structure it must refuse.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "signaling/sdp/sdp_parser.hpp"

namespace chorus::sdp {
namespace sdp_parser_test {

// Captured from baresip 1.0.0 (Debian 12) dialing a listener on loopback (CRLF on the wire).
constexpr std::string_view kBaresipOffer =
    "v=0\r\n"
    "o=- 2945566452 1714698394 IN IP4 192.0.2.2\r\n"
    "s=-\r\n"
    "c=IN IP4 192.0.2.2\r\n"
    "t=0 0\r\n"
    "a=tool:baresip 1.0.0\r\n"
    "m=audio 3716 RTP/AVP 0 8 9 96 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:9 G722/8000\r\n"
    "a=rtpmap:96 opus/48000/2\r\n"
    "a=fmtp:96 stereo=1;sprop-stereo=1\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-15\r\n"
    "a=sendrecv\r\n"
    "a=label:1\r\n"
    "a=rtcp-rsize\r\n"
    "a=ssrc:2979106551 cname:sip:alice@127.0.0.1:5072\r\n"
    "a=minptime:20\r\n"
    "a=ptime:20\r\n";

// sipp 3.6 built-in "uac" scenario.
constexpr std::string_view kSippOffer =
    "v=0\r\n"
    "o=user1 53655765 2353687637 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "c=IN IP4 127.0.0.1\r\n"
    "t=0 0\r\n"
    "m=audio 6000 RTP/AVP 0\r\n"
    "a=rtpmap:0 PCMU/8000\r\n";

std::string read_body(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  std::string message = text.str();
  auto blank = message.find("\r\n\r\n");
  return blank == std::string::npos ? std::string() : message.substr(blank + 4);
}

const std::filesystem::path kRfc5118Dir = std::filesystem::path(CHORUS_SHARED_DIR) / "conformance" / "rfc5118";

TEST(SdpParser, ReadsBaresipOffer) {
  auto sd = parse_sdp(kBaresipOffer);
  ASSERT_TRUE(sd) << sd.error();
  EXPECT_EQ(sd->origin.username, "-");
  EXPECT_EQ(sd->origin.session_id, "2945566452");
  EXPECT_EQ(sd->origin.session_version, "1714698394");
  EXPECT_EQ(sd->origin.address, "192.0.2.2");
  ASSERT_TRUE(sd->connection);
  EXPECT_EQ(sd->connection->address, "192.0.2.2");
  EXPECT_FALSE(sd->connection->is_ipv6());
  ASSERT_EQ(sd->timings.size(), 1u);
  EXPECT_EQ(sd->attribute_value("tool"), "baresip 1.0.0");
  ASSERT_EQ(sd->media.size(), 1u);
  const MediaDescription& m = sd->media[0];
  EXPECT_EQ(m.type(), MediaType::kAudio);
  EXPECT_EQ(m.port, 3716);
  EXPECT_EQ(m.transport(), TransportProtocol::kRtpAvp);
  EXPECT_EQ(m.formats, (std::vector<std::string>{"0", "8", "9", "96", "101"}));
  EXPECT_EQ(m.attributes.size(), 13u);
  EXPECT_EQ(m.attributes[8].name, "label");  // order kept
}

TEST(SdpParser, ReadsSippDefaultOffer) {
  auto sd = parse_sdp(kSippOffer);
  ASSERT_TRUE(sd) << sd.error();
  ASSERT_EQ(sd->media.size(), 1u);
  EXPECT_EQ(sd->media[0].port, 6000);
  EXPECT_EQ(sd->media[0].formats, std::vector<std::string>{"0"});
  EXPECT_EQ(sd->media[0].rtpmap("0"), (RtpMap{0, "PCMU", 8000, 1}));
}

TEST(SdpParser, AcceptsBareLineFeedsAndTrailingBlanks) {
  auto sd = parse_sdp("v=0\no=- 1 1 IN IP4 192.0.2.1  \ns=x\nt=0 0\nm=audio 4000 RTP/AVP 0 \n\n");
  ASSERT_TRUE(sd) << sd.error();
  EXPECT_EQ(sd->origin.address, "192.0.2.1");
  EXPECT_EQ(sd->media.at(0).formats, std::vector<std::string>{"0"});
}

TEST(SdpParser, ReadsIpv6ConnectionLine) {
  auto sd = parse_sdp(
      "v=0\r\no=- 1 1 IN IP6 2001:db8::1\r\ns=-\r\nc=IN IP6 2001:db8::1\r\nt=0 0\r\n"
      "m=audio 5004 RTP/AVP 0\r\n");
  ASSERT_TRUE(sd) << sd.error();
  EXPECT_TRUE(sd->connection->is_ipv6());
  EXPECT_EQ(sd->connection->address, "2001:db8::1");
  EXPECT_EQ(sd->origin.address_type, "IP6");
}

TEST(SdpParser, ReadsRfc5118Ipv6InSdp) {
  auto path = kRfc5118Dir / "ipv6-in-sdp";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no ../shared/conformance: " << path;
  auto sd = parse_sdp(read_body(path));
  ASSERT_TRUE(sd) << sd.error();
  EXPECT_EQ(sd->session_name, "Live video feed for today's meeting");
  EXPECT_EQ(sd->connection->address, "2001:db8::20");
  EXPECT_TRUE(sd->connection->is_ipv6());
  EXPECT_EQ(sd->timings.at(0).start, 3338481189u);
  ASSERT_EQ(sd->media.size(), 2u);
  EXPECT_EQ(sd->media[0].rtpmap("2"), (RtpMap{2, "G726-32", 8000, 1}));
  EXPECT_EQ(sd->media[1].type(), MediaType::kVideo);
}

TEST(SdpParser, ReadsRfc5118MixedAddressFamiliesPerMedia) {
  auto path = kRfc5118Dir / "mult-ip-in-sdp";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no ../shared/conformance: " << path;
  auto sd = parse_sdp(read_body(path));
  ASSERT_TRUE(sd) << sd.error();
  EXPECT_FALSE(sd->connection);
  ASSERT_EQ(sd->media.size(), 2u);
  EXPECT_EQ(sd->effective_connection(sd->media[0])->address, "192.0.2.1");
  EXPECT_TRUE(sd->effective_connection(sd->media[1])->is_ipv6());
}

TEST(SdpParser, KeepsUnknownLinesAndAttributes) {
  auto sd = parse_sdp(
      "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nx=session extra\r\n"
      "m=video 9000 RTP/AVP 96\r\na=rtpmap:96 PS/90000\r\na=x-custom\r\ny=0100000001\r\nf=v/2/4\r\n");
  ASSERT_TRUE(sd) << sd.error();
  EXPECT_EQ(sd->other_lines, std::vector<std::string>{"x=session extra"});
  EXPECT_EQ(sd->media[0].other_lines, (std::vector<std::string>{"y=0100000001", "f=v/2/4"}));
  EXPECT_TRUE(sd->media[0].has_attribute("x-custom"));
  EXPECT_FALSE(sd->media[0].attribute_value("x-custom")->size());
}

TEST(SdpParser, ReadsEveryRfc8866SessionField) {
  auto sd = parse_sdp(
      "v=0\r\no=jdoe 3724394400 3724394405 IN IP4 198.51.100.1\r\ns=Call to John Smith\r\ni=SDP Offer #1\r\n"
      "u=http://www.jdoe.example.com/home.html\r\ne=Jane Doe <jane@jdoe.example.com>\r\np=+1 617 555-6011\r\n"
      "c=IN IP4 198.51.100.1\r\nb=CT:128\r\nt=0 0\r\nr=7d 1h 0 25h\r\nz=2882844526 -1h\r\nk=prompt\r\n"
      "m=audio 49170 RTP/AVP 0\r\ni=voice\r\nc=IN IP4 224.2.1.1/127/3\r\nb=AS:64\r\nb=TIAS:64000\r\n"
      "m=application 32416 udp wb\r\na=orient:portrait\r\n");
  ASSERT_TRUE(sd) << sd.error();
  EXPECT_EQ(sd->information, "SDP Offer #1");
  EXPECT_EQ(sd->uri, "http://www.jdoe.example.com/home.html");
  EXPECT_EQ(sd->emails.size(), 1u);
  EXPECT_EQ(sd->phones.size(), 1u);
  EXPECT_EQ(sd->bandwidths, (std::vector<Bandwidth>{{"CT", 128}}));
  EXPECT_EQ(sd->timings.at(0).repeats, std::vector<std::string>{"7d 1h 0 25h"});
  EXPECT_EQ(sd->time_zones, "2882844526 -1h");
  EXPECT_EQ(sd->key, "prompt");
  const MediaDescription& audio = sd->media.at(0);
  EXPECT_EQ(audio.title, "voice");
  EXPECT_EQ(audio.connections.at(0).address, "224.2.1.1");
  EXPECT_EQ(audio.connections.at(0).multicast_suffix, "/127/3");
  EXPECT_TRUE(audio.connections.at(0).is_multicast());
  EXPECT_EQ(audio.bandwidths.size(), 2u);
  EXPECT_EQ(sd->media.at(1).transport(), TransportProtocol::kOther);
  EXPECT_EQ(sd->media.at(1).formats, std::vector<std::string>{"wb"});
}

TEST(SdpParser, ReadsPortCount) {
  auto sd = parse_sdp("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\nm=video 49170/2 RTP/AVP 31\n");
  ASSERT_TRUE(sd) << sd.error();
  EXPECT_EQ(sd->media[0].port, 49170);
  EXPECT_EQ(sd->media[0].port_count, 2);
}

TEST(SdpParser, ToleratesMissingNameAndTiming) {
  auto sd = parse_sdp("v=0\no=- 1 1 IN IP4 192.0.2.1\nm=audio 4000 RTP/AVP 0\n");
  ASSERT_TRUE(sd) << sd.error();
  EXPECT_EQ(sd->session_name, "-");
  EXPECT_TRUE(sd->timings.empty());
}

TEST(SdpParser, AcceptsRejectedStreamWithoutFormats) {
  auto sd = parse_sdp("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\nm=video 0 RTP/AVP\n");
  ASSERT_TRUE(sd) << sd.error();
  EXPECT_TRUE(sd->media[0].is_rejected());
}

struct BadSdp {
  const char* name;
  std::string_view text;
  std::string_view error_contains;
};

class SdpParserRejects : public ::testing::TestWithParam<BadSdp> {};

TEST_P(SdpParserRejects, NamesTheBadLine) {
  auto sd = parse_sdp(GetParam().text);
  ASSERT_FALSE(sd) << GetParam().name;
  EXPECT_NE(sd.error().find(GetParam().error_contains), std::string::npos) << sd.error();
}

constexpr std::string_view kHead = "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\n";

INSTANTIATE_TEST_SUITE_P(
    Structure, SdpParserRejects,
    ::testing::Values(
        BadSdp{"Empty", "", "empty SDP"},
        BadSdp{"NotVersionFirst", "o=- 1 1 IN IP4 192.0.2.1\nv=0\n",
               "line 1 (o=- 1 1 IN IP4 192.0.2.1): first line is not v="},
        BadSdp{"VersionOne", "v=1\no=- 1 1 IN IP4 192.0.2.1\n", "unsupported SDP version"},
        BadSdp{"NoOrigin", "v=0\ns=-\nt=0 0\n", "no o= line"},
        BadSdp{"ShortOrigin", "v=0\no=- 1 1 IN IP4\n", "line 2 (o=- 1 1 IN IP4): o= needs six fields"},
        BadSdp{"SecondOrigin", "v=0\no=- 1 1 IN IP4 a\no=- 1 1 IN IP4 a\n", "second o= line"},
        BadSdp{"NotALine", "v=0\no=- 1 1 IN IP4 a\nhello\n", "line 3 (hello): not a <type>=<value> line"},
        BadSdp{"UppercaseType", "v=0\no=- 1 1 IN IP4 a\nA=x\n", "not a <type>=<value> line"},
        BadSdp{"PortNotNumber", "v=0\no=- 1 1 IN IP4 a\ns=-\nt=0 0\nm=audio x RTP/AVP 0\n",
               "line 5 (m=audio x RTP/AVP 0): port is not a number 0-65535"},
        BadSdp{"PortTooLarge", "v=0\no=- 1 1 IN IP4 a\nm=audio 65536 RTP/AVP 0\n", "port is not a number 0-65535"},
        BadSdp{"NegativePort", "v=0\no=- 1 1 IN IP4 a\nm=audio -1 RTP/AVP 0\n", "port is not a number"},
        BadSdp{"PortCountZero", "v=0\no=- 1 1 IN IP4 a\nm=audio 4000/0 RTP/AVP 0\n", "number of ports"},
        BadSdp{"MediaWithoutProtocol", "v=0\no=- 1 1 IN IP4 a\nm=audio 4000\n", "m= needs"},
        BadSdp{"MediaWithoutFormats", "v=0\no=- 1 1 IN IP4 a\nm=audio 4000 RTP/AVP\n", "m= has no formats"},
        BadSdp{"ShortConnection", "v=0\no=- 1 1 IN IP4 a\nc=IN IP4\n", "c= needs"},
        BadSdp{"BandwidthNotNumber", "v=0\no=- 1 1 IN IP4 a\nb=AS:lots\n", "b= bandwidth is not a number"},
        BadSdp{"TimingNotNumbers", "v=0\no=- 1 1 IN IP4 a\nt=now later\n", "t= needs two numbers"},
        BadSdp{"RepeatBeforeTiming", "v=0\no=- 1 1 IN IP4 a\nr=7d 1h 0\n", "r= before any t= line"},
        BadSdp{"SessionLineInMedia", "v=0\no=- 1 1 IN IP4 a\nm=audio 4000 RTP/AVP 0\ns=late\n",
               "session-level line inside a media section"},
        BadSdp{"AttributeWithoutName", "v=0\no=- 1 1 IN IP4 a\na=:x\n", "a= has no attribute name"},
        BadSdp{"NulByte", std::string_view("v=0\no=- 1 1 IN IP4 a\ns=a\0b\n", 27), "control character"},
        BadSdp{"SecondSessionConnection", "v=0\no=- 1 1 IN IP4 a\nc=IN IP4 a\nc=IN IP4 b\n",
               "second session-level c="}),
    [](const ::testing::TestParamInfo<BadSdp>& info) { return std::string(info.param.name); });

TEST(SdpParser, RefusesMoreThan64KiB) {
  std::string text(kHead);
  while (text.size() <= kMaxSdpBytes)
    text += "a=x-padding:0123456789012345678901234567890123456789012345678901234567890123\n";
  auto sd = parse_sdp(text);
  ASSERT_FALSE(sd);
  EXPECT_NE(sd.error().find("larger than 65536"), std::string::npos) << sd.error();
}

TEST(SdpParser, RefusesMoreThan1024Lines) {
  std::string text(kHead);
  for (int i = 0; i < 1100; ++i) text += "a=x\n";
  auto sd = parse_sdp(text);
  ASSERT_FALSE(sd);
  EXPECT_NE(sd.error().find("more than 1024 lines"), std::string::npos) << sd.error();
}

TEST(SdpParser, RefusesMoreThan64MediaSections) {
  std::string text(kHead);
  for (int i = 0; i < 65; ++i) text += "m=audio 4000 RTP/AVP 0\n";
  auto sd = parse_sdp(text);
  ASSERT_FALSE(sd);
  EXPECT_NE(sd.error().find("line 69 (m=audio 4000 RTP/AVP 0): too many media sections"), std::string::npos)
      << sd.error();
  text.resize(text.size() - std::string_view("m=audio 4000 RTP/AVP 0\n").size());
  EXPECT_TRUE(parse_sdp(text));
}

TEST(SdpParser, QuotesOnlyPrintableClippedText) {
  std::string line = "m=audio 99999 RTP/AVP " + std::string(100, '9') + "\xff";
  auto sd = parse_sdp("v=0\no=- 1 1 IN IP4 a\n" + line + "\n");
  ASSERT_FALSE(sd);
  EXPECT_NE(sd.error().find("...): port"), std::string::npos) << sd.error();
  EXPECT_EQ(sd.error().find('\xff'), std::string::npos);
}

}  // namespace sdp_parser_test
}  // namespace chorus::sdp
