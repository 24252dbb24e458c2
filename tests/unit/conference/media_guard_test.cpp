// Media guard (issue 12): which SDP addresses are refused (488 + Warning 305) before any port is
// leased, which are proven by the signaling source, and the deny-range parser.
#include "conference/media_guard.hpp"

#include <gtest/gtest.h>

#include <string>

#include "signaling/sdp/sdp_parser.hpp"

namespace chorus::conference {
namespace media_guard_test {

using boost::asio::ip::make_address;

const auto kRemoteCaller = make_address("203.0.113.7");
const auto kLoopbackCaller = make_address("127.0.0.1");

// A one-section audio offer with `connection` as c= and `direction` (empty: none, i.e. sendrecv).
std::string offer(const std::string& connection, const std::string& direction = "", const std::string& extra = "") {
  std::string text = "v=0\r\no=- 1 1 IN IP4 198.51.100.1\r\ns=-\r\nc=" + connection +
                     "\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
  if (!direction.empty()) text += "a=" + direction + "\r\n";
  return text + extra;
}

std::optional<sdp::NegotiationError> check(const std::string& text, const boost::asio::ip::address& source,
                                           const MediaGuardSettings& settings = {}) {
  auto parsed = sdp::parse_sdp(text);
  EXPECT_TRUE(parsed.has_value()) << text;
  return check_media_addresses(*parsed, source, settings);
}

TEST(MediaGuard, AnOrdinaryUnicastAddressPasses) {
  EXPECT_FALSE(check(offer("IN IP4 198.51.100.20"), kRemoteCaller).has_value());
  EXPECT_FALSE(check(offer("IN IP4 10.1.2.3"), kRemoteCaller).has_value()) << "a NATed phone's private address";
}

TEST(MediaGuard, MulticastIsRefusedWith488AndWarning305) {
  auto error = check(offer("IN IP4 224.2.1.1/127"), kRemoteCaller);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->sip_status, 488);
  EXPECT_EQ(error->warning_code, 305);
  EXPECT_EQ(error->warning_value("chorus"), "305 chorus \"Multicast media address refused\"");
  EXPECT_TRUE(check(offer("IN IP4 239.255.255.250"), kRemoteCaller).has_value());  // no TTL suffix
  EXPECT_TRUE(check(offer("IN IP6 ff02::1"), kRemoteCaller).has_value());
  EXPECT_TRUE(check(offer("IN IP4 255.255.255.255"), kRemoteCaller).has_value());
}

TEST(MediaGuard, UnspecifiedIsHoldWithSendonlyOrInactiveAndRefusedOtherwise) {
  // RFC 3264 §8.4: 0.0.0.0 is the RFC 2543 hold.
  EXPECT_FALSE(check(offer("IN IP4 0.0.0.0", "sendonly"), kRemoteCaller).has_value());
  EXPECT_FALSE(check(offer("IN IP4 0.0.0.0", "inactive"), kRemoteCaller).has_value());
  EXPECT_TRUE(check(offer("IN IP4 0.0.0.0"), kRemoteCaller).has_value());
  EXPECT_TRUE(check(offer("IN IP4 0.0.0.0", "recvonly"), kRemoteCaller).has_value());
  EXPECT_TRUE(check(offer("IN IP6 ::"), kRemoteCaller).has_value());
}

TEST(MediaGuard, LinkLocalIsRefused) {
  EXPECT_TRUE(check(offer("IN IP4 169.254.169.254"), kRemoteCaller).has_value()) << "a cloud metadata service";
  EXPECT_TRUE(check(offer("IN IP6 fe80::1"), kRemoteCaller).has_value());
}

TEST(MediaGuard, LoopbackOnlyFromALoopbackCaller) {
  auto error = check(offer("IN IP4 127.0.0.9"), kRemoteCaller);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->reason, "Loopback media address refused");
  EXPECT_TRUE(check(offer("IN IP6 ::1"), kRemoteCaller).has_value());
  EXPECT_FALSE(check(offer("IN IP4 127.0.0.9"), kLoopbackCaller).has_value());
  EXPECT_FALSE(check(offer("IN IP4 127.0.0.1"), make_address("::ffff:127.0.0.1")).has_value());
}

TEST(MediaGuard, ConfiguredDenyRangesAreRefused) {
  MediaGuardSettings settings;
  settings.deny_ranges = {*parse_ip_range("10.0.0.0/8"), *parse_ip_range("2001:db8::/32")};
  EXPECT_TRUE(check(offer("IN IP4 10.200.0.1"), kRemoteCaller, settings).has_value());
  EXPECT_TRUE(check(offer("IN IP6 2001:db8:1::5"), kRemoteCaller, settings).has_value());
  EXPECT_FALSE(check(offer("IN IP4 11.0.0.1"), kRemoteCaller, settings).has_value());
}

TEST(MediaGuard, TheRtcpAttributesOwnAddressIsCheckedToo) {
  // RFC 3605: a=rtcp may name another address for RTCP.
  EXPECT_TRUE(check(offer("IN IP4 198.51.100.20", "", "a=rtcp:53020 IN IP4 224.0.0.1\r\n"), kRemoteCaller).has_value());
}

TEST(MediaGuard, IceSectionsAreNotChecked) {
  // ICE proves its pairs by connectivity checks; Chrome's c= says 0.0.0.0 before trickling.
  EXPECT_FALSE(
      check(offer("IN IP4 0.0.0.0", "", "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789012345678901\r\n"), kRemoteCaller)
          .has_value());
}

TEST(MediaGuard, ARejectedSectionIsNotChecked) {
  std::string text = offer("IN IP4 198.51.100.20") + "m=video 0 RTP/AVP 96\r\nc=IN IP4 224.0.0.1\r\n";
  EXPECT_FALSE(check(text, kRemoteCaller).has_value());
}

TEST(MediaGuard, TheSignalingSourcesOwnIpIsProven) {
  EXPECT_TRUE(proven_by_signaling("203.0.113.7", kRemoteCaller));
  EXPECT_TRUE(proven_by_signaling("203.0.113.7", make_address("::ffff:203.0.113.7")));
  EXPECT_FALSE(proven_by_signaling("203.0.113.8", kRemoteCaller));
  EXPECT_FALSE(proven_by_signaling("caller.example.com", kRemoteCaller));
  EXPECT_FALSE(proven_by_signaling("0.0.0.0", make_address("0.0.0.0")));
}

TEST(MediaGuard, ParsesCidrsAndRefusesNonsense) {
  auto range = parse_ip_range("192.0.2.77/24");
  ASSERT_TRUE(range.has_value());
  EXPECT_EQ(range->to_string(), "192.0.2.0/24");  // host bits cleared
  EXPECT_TRUE(range->contains(make_address("192.0.2.1")));
  EXPECT_FALSE(range->contains(make_address("192.0.3.1")));
  EXPECT_FALSE(range->contains(make_address("2001:db8::1")));
  EXPECT_EQ(parse_ip_range("2001:db8::1")->prefix, 128U);
  EXPECT_TRUE(parse_ip_range("0.0.0.0/0")->contains(make_address("8.8.8.8")));
  EXPECT_EQ(parse_ip_range("2001:db8:ffff::/33")->to_string(), "2001:db8:8000::/33");
  EXPECT_FALSE(parse_ip_range("10.0.0.0/33").has_value());
  EXPECT_FALSE(parse_ip_range("10.0.0.0/").has_value());
  EXPECT_FALSE(parse_ip_range("10.0.0.0/8x").has_value());
  EXPECT_FALSE(parse_ip_range("example.com/8").has_value());
  EXPECT_FALSE(parse_ip_range("").has_value());
}

TEST(MediaGuard, RemotePayloadTypesCoverCodecEventsAndRtx) {
  sdp::NegotiatedStream stream;
  stream.payload_type = 0;
  stream.telephone_event_pt = 101;
  sdp::VideoFormat vp8;
  vp8.payload_type = 96;
  vp8.rtx_payload_type = 97;
  stream.video_formats = {vp8};
  std::vector<std::uint8_t> out;
  add_remote_payload_types(stream, out);
  EXPECT_EQ(out, (std::vector<std::uint8_t>{0, 101, 96, 97}));
}

}  // namespace media_guard_test
}  // namespace chorus::conference
