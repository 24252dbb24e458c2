// BUNDLE helpers: a=group:BUNDLE lines read from parsed descriptions (RFC 8843 §7, RFC 5888 §5)
// and a=extmap ids (RFC 8285 §5), including the malformed forms peers send.
#include "signaling/sdp/bundle.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "signaling/sdp/sdp_parser.hpp"

namespace chorus::sdp {
namespace bundle_test {

using Groups = std::vector<std::vector<std::string>>;

SessionDescription parse(std::string_view session_attributes, std::string_view media_lines) {
  std::string text = "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n";
  text += session_attributes;
  text += media_lines;
  auto sd = parse_sdp(text);
  if (!sd) {
    ADD_FAILURE() << sd.error();
    return {};
  }
  return *sd;
}

// Three sections tagged a0, v1 and d2 (a WebRTC-style offer: audio, video, data channel).
constexpr std::string_view kThreeSections =
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\na=mid:a0\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97\na=mid:v1\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\na=mid:d2\n";

TEST(BundleGroups, NoneWithoutGroupAttribute) {
  EXPECT_EQ(bundle_groups(parse("", kThreeSections)), Groups{});
}

TEST(BundleGroups, ReadsTagsInWrittenOrder) {
  // RFC 8843 §7.2: the first tag names the offerer-tagged m= section, so the order is kept.
  EXPECT_EQ(bundle_groups(parse("a=group:BUNDLE v1 a0 d2\n", kThreeSections)), (Groups{{"v1", "a0", "d2"}}));
}

TEST(BundleGroups, SeveralGroupsAndOtherSemantics) {
  const auto sd = parse("a=group:LS a0 v1\na=group:BUNDLE a0\na=group:BUNDLE v1 d2\n", kThreeSections);
  EXPECT_EQ(bundle_groups(sd), (Groups{{"a0"}, {"v1", "d2"}}));
}

TEST(BundleGroups, DropsUnknownRepeatedAndRegroupedTags) {
  // "x9" names no section; "a0" repeats; "v1" is already in the first group (RFC 8843 §6).
  const auto sd = parse("a=group:BUNDLE a0 x9 a0 v1\na=group:BUNDLE v1 d2\n", kThreeSections);
  EXPECT_EQ(bundle_groups(sd), (Groups{{"a0", "v1"}, {"d2"}}));
}

TEST(BundleGroups, OmitsEmptyAndUnknownOnlyGroups) {
  const auto sd = parse("a=group:BUNDLE\na=group:BUNDLE zz yy\na=group:BUNDLE  a0   v1 \n", kThreeSections);
  EXPECT_EQ(bundle_groups(sd), (Groups{{"a0", "v1"}}));
}

TEST(BundleGroups, SemanticsIsCaseSensitiveAndMustBeWhole) {
  const auto sd = parse("a=group:bundle a0\na=group:BUNDLEX v1\na=group\n", kThreeSections);
  EXPECT_EQ(bundle_groups(sd), Groups{});
}

TEST(BundleGroups, KeepsBundleOnlySectionsWithPortZero) {
  // RFC 8843 §6: a bundle-only section is offered on port 0 and still belongs to the group.
  const auto sd = parse("a=group:BUNDLE a0 v1\n",
                        "m=audio 9 UDP/TLS/RTP/SAVPF 111\na=mid:a0\n"
                        "m=video 0 UDP/TLS/RTP/SAVPF 96\na=bundle-only\na=mid:v1\n");
  EXPECT_EQ(bundle_groups(sd), (Groups{{"a0", "v1"}}));
}

MediaDescription media_with(std::string_view attributes) {
  std::string lines = "m=audio 9 UDP/TLS/RTP/SAVPF 111\n";
  lines += attributes;
  auto sd = parse("", lines);
  return sd.media.empty() ? MediaDescription{} : sd.media.front();
}

TEST(ExtmapId, FindsUriAmongSeveral) {
  const auto m = media_with(
      "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\n"
      "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\n"
      "a=extmap:3 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\n");
  EXPECT_EQ(extmap_id(m, kMidExtensionUri), 4);
  EXPECT_EQ(extmap_id(m, "urn:ietf:params:rtp-hdrext:ssrc-audio-level"), 1);
  EXPECT_EQ(extmap_id(m, "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"), std::nullopt);
}

TEST(ExtmapId, AcceptsDirectionAndExtensionAttributes) {
  // RFC 8285 §5: <value>["/"<direction>] <URI> <extensionattributes>.
  const auto m = media_with(
      "a=extmap:9/recvonly urn:ietf:params:rtp-hdrext:sdes:mid\n"
      "a=extmap:200/sendrecv urn:example:two-byte-only some attributes\n");
  EXPECT_EQ(extmap_id(m, kMidExtensionUri), 9);
  EXPECT_EQ(extmap_id(m, "urn:example:two-byte-only"), 200);
}

TEST(ExtmapId, NoneWithoutExtmap) {
  EXPECT_EQ(extmap_id(media_with("a=rtcp-mux\n"), kMidExtensionUri), std::nullopt);
}

TEST(ExtmapId, SkipsMalformedLinesAndTakesTheFirstGoodOne) {
  const auto m = media_with(
      "a=extmap:0 urn:ietf:params:rtp-hdrext:sdes:mid\n"           // 0 is padding, not an id
      "a=extmap:256 urn:ietf:params:rtp-hdrext:sdes:mid\n"         // beyond the two-byte form
      "a=extmap:-3 urn:ietf:params:rtp-hdrext:sdes:mid\n"          // no sign allowed
      "a=extmap:x urn:ietf:params:rtp-hdrext:sdes:mid\n"           // not a number
      "a=extmap:2/sideways urn:ietf:params:rtp-hdrext:sdes:mid\n"  // unknown direction
      "a=extmap:2/ urn:ietf:params:rtp-hdrext:sdes:mid\n"          // empty direction
      "a=extmap:/sendonly urn:ietf:params:rtp-hdrext:sdes:mid\n"   // no id
      "a=extmap:000002 urn:ietf:params:rtp-hdrext:sdes:mid\n"      // more than 5 digits
      "a=extmap:5\n"                                               // no URI
      "a=extmap:7 urn:ietf:params:rtp-hdrext:sdes:mid\n"           // the first good one
      "a=extmap:8 urn:ietf:params:rtp-hdrext:sdes:mid\n");
  EXPECT_EQ(extmap_id(m, kMidExtensionUri), 7);
}

TEST(ExtmapId, ComparesUriExactly) {
  const auto m = media_with("a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:midx\n");
  EXPECT_EQ(extmap_id(m, kMidExtensionUri), std::nullopt);
  EXPECT_EQ(extmap_id(media_with("a=extmap:00012 urn:ietf:params:rtp-hdrext:sdes:mid\n"), kMidExtensionUri), 12);
}

}  // namespace bundle_test
}  // namespace chorus::sdp
