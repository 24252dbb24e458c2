// BundleDemux: RFC 8843 §9.2 routing of RTP packets on a BUNDLE transport — by the MID header
// extension (RFC 8285 one- and two-byte forms, wire vectors below), by learned and signalled
// SSRCs, by unambiguous payload types — with re-binding, reordering, eviction at the bound, the
// payload type check, and drops of unknown or overlong MIDs, each counted.
#include "media/transport/bundle_demux.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "media/rtp/rtp_header_writer.hpp"
#include "media/rtp/rtp_packet.hpp"

namespace chorus::media {
namespace bundle_demux_test {

constexpr std::uint8_t kMidId = 3;  // a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid

// Three bundled sections: a0 (Opus 111), v1 (VP8 96, RTX 97), v2 (VP8 98, RTX 97). PT 97 is
// received by both video sections, so it identifies neither (RFC 8843 §9.2).
constexpr std::size_t kAudio = 0;
constexpr std::size_t kVideo1 = 1;
constexpr std::size_t kVideo2 = 2;
constexpr std::uint32_t kSignalledVideo2Ssrc = 0x22222222;  // a=ssrc in v2
constexpr std::uint32_t kLocalAudioSsrc = 0xA0A0A0A0;       // what we send in a0
constexpr std::uint32_t kLocalVideo1Ssrc = 0xB1B1B1B1;      // what we send in v1

BundleDemuxConfig three_sections(std::uint8_t mid_id = kMidId) {
  BundleDemuxConfig config;
  config.mid_extension_id = mid_id;
  config.streams = {
      {.mid = "a0", .payload_types = {111}, .remote_ssrcs = {}, .local_ssrcs = {kLocalAudioSsrc}},
      {.mid = "v1", .payload_types = {96, 97}, .remote_ssrcs = {}, .local_ssrcs = {kLocalVideo1Ssrc}},
      {.mid = "v2", .payload_types = {98, 97}, .remote_ssrcs = {kSignalledVideo2Ssrc}, .local_ssrcs = {}},
  };
  return config;
}

BundleDemux make_demux(const BundleDemuxConfig& config = three_sections()) {
  auto demux = BundleDemux::create(config);
  if (!demux) ADD_FAILURE() << demux.error();
  return std::move(*demux);
}

// RFC 8285 §4.2 one-byte form: audio from SSRC 0x11111111 carrying MID "a0".
constexpr std::array<std::uint8_t, 22> kAudioMidA0 = {
    0x90,                    // V=2 P=0 X=1 CC=0
    0x6F,                    // M=0 PT=111 (Opus)
    0x00, 0x01,              // sequence number 1
    0x00, 0x00, 0x03, 0xC0,  // timestamp 960
    0x11, 0x11, 0x11, 0x11,  // SSRC
    0xBE, 0xDE,              // profile: one-byte form
    0x00, 0x01,              // length: 1 word
    0x31, 'a',  '0',         // id 3, L=1 (2 bytes): MID "a0"
    0x00,                    // padding to the word boundary
    0xAA, 0xBB,              // payload
};

// One-byte form: RTX (PT 97, shared by v1 and v2) from SSRC 0x33333333 carrying MID "v1",
// after an audio level element (id 1) that the demultiplexer skips over.
constexpr std::array<std::uint8_t, 25> kRtxMidV1 = {
    0x90,                    // V=2 P=0 X=1 CC=0
    0x61,                    // M=0 PT=97
    0x00, 0x0A,              // sequence number 10
    0x00, 0x00, 0x00, 0x00,  // timestamp 0
    0x33, 0x33, 0x33, 0x33,  // SSRC
    0xBE, 0xDE,              // profile: one-byte form
    0x00, 0x02,              // length: 2 words
    0x10, 0x85,              // id 1, L=0: audio level (not ours to read)
    0x31, 'v',  '1',         // id 3, L=1: MID "v1"
    0x00, 0x00, 0x00,        // padding to the word boundary
    0xCC,                    // payload
};

// The same stream later, without any extension (browsers stop sending the MID once the SSRC has
// been acknowledged).
constexpr std::array<std::uint8_t, 13> kRtxPlain = {
    0x80,                    // V=2 P=0 X=0 CC=0
    0x61,                    // M=0 PT=97
    0x00, 0x0B,              // sequence number 11
    0x00, 0x00, 0x00, 0x00,  // timestamp 0
    0x33, 0x33, 0x33, 0x33,  // SSRC
    0xCC,                    // payload
};

// One-byte form: MID "zz", which no section carries.
constexpr std::array<std::uint8_t, 21> kUnknownMid = {
    0x90,                    // V=2 P=0 X=1 CC=0
    0x6F,                    // M=0 PT=111 (unique to a0: still dropped, the MID decides)
    0x00, 0x01,              // sequence number 1
    0x00, 0x00, 0x00, 0x00,  // timestamp 0
    0x44, 0x44, 0x44, 0x44,  // SSRC
    0xBE, 0xDE,              // profile: one-byte form
    0x00, 0x01,              // length: 1 word
    0x31, 'z',  'z',         // id 3, L=1: MID "zz"
    0x00,                    // padding
    0xAA,                    // payload
};

// RFC 8285 §4.3 two-byte form: a 17-octet MID, one more than RFC 8843 §9.2 allows.
constexpr std::array<std::uint8_t, 37> kOverlongMid = {
    0x90,                                        // V=2 P=0 X=1 CC=0
    0x6F,                                        // M=0 PT=111
    0x00, 0x01,                                  // sequence number 1
    0x00, 0x00, 0x00, 0x00,                      // timestamp 0
    0x55, 0x55, 0x55, 0x55,                      // SSRC
    0x10, 0x00,                                  // profile: two-byte form, appbits 0
    0x00, 0x05,                                  // length: 5 words
    0x03, 0x11,                                  // id 3, length 17
    'a',  '0',  'a',  '0',  'a', '0', 'a', '0',  // MID text ...
    'a',  '0',  'a',  '0',  'a', '0', 'a', '0',  // ...
    'a',                                         // ... 17 octets
    0x00,                                        // padding to the word boundary
    0xAA,                                        // payload
};

// Two-byte form: an empty MID element (allowed by §4.3's length 0, but names nothing) and,
// separately, a good MID "v2" on the next packet.
constexpr std::array<std::uint8_t, 21> kEmptyMid = {
    0x90,                    // V=2 P=0 X=1 CC=0
    0x62,                    // M=0 PT=98 (unique to v2: still dropped)
    0x00, 0x01,              // sequence number 1
    0x00, 0x00, 0x00, 0x00,  // timestamp 0
    0x66, 0x66, 0x66, 0x66,  // SSRC
    0x10, 0x00,              // profile: two-byte form
    0x00, 0x01,              // length: 1 word
    0x03, 0x00,              // id 3, length 0
    0x00, 0x00,              // padding
    0xAA,                    // payload
};
constexpr std::array<std::uint8_t, 21> kTwoByteMidV2 = {
    0x90,                    // V=2 P=0 X=1 CC=0
    0x61,                    // M=0 PT=97 (shared)
    0x00, 0x02,              // sequence number 2
    0x00, 0x00, 0x00, 0x00,  // timestamp 0
    0x66, 0x66, 0x66, 0x66,  // SSRC
    0x10, 0x00,              // profile: two-byte form
    0x00, 0x01,              // length: 1 word
    0x03, 0x02, 'v',  '2',   // id 3, length 2: MID "v2"
    0xAA,                    // payload
};

// Parses a copy of `wire` (RtpPacket views a mutable buffer) and routes it.
std::optional<std::size_t> route(BundleDemux& demux, std::span<const std::uint8_t> wire) {
  std::vector<std::uint8_t> buffer(wire.begin(), wire.end());
  auto packet = RtpPacket::parse(buffer);
  if (!packet) {
    ADD_FAILURE() << "test vector is not a valid RTP packet";
    return std::nullopt;
  }
  return demux.route(*packet);
}

// A generated packet for the loops: one-byte MID element when `mid` is not empty.
std::optional<std::size_t> route(BundleDemux& demux, std::uint32_t ssrc, std::uint16_t sequence,
                                 std::uint8_t payload_type, std::string_view mid = {}) {
  std::array<std::uint8_t, 64> buffer{};
  const std::span<const std::uint8_t> mid_bytes(reinterpret_cast<const std::uint8_t*>(mid.data()), mid.size());
  const std::array<OneByteExtensionElement, 1> elements{{{kMidId, mid_bytes}}};
  RtpHeaderFields fields;
  fields.payload_type = payload_type;
  fields.sequence_number = sequence;
  fields.ssrc = ssrc;
  if (!mid.empty()) fields.extensions = elements;
  const auto size = write_rtp_header(buffer, fields);
  if (!size) {
    ADD_FAILURE() << "cannot write the header";
    return std::nullopt;
  }
  return route(demux, std::span(buffer).first(*size + 1));  // one payload byte
}

TEST(BundleDemux, CreateRefusesBadConfigurations) {
  auto refused = [](auto edit) {
    auto config = three_sections();
    edit(config);
    return !BundleDemux::create(config).has_value();
  };
  EXPECT_TRUE(refused([](BundleDemuxConfig& c) { c.streams.clear(); }));
  EXPECT_TRUE(refused([](BundleDemuxConfig& c) { c.streams[0].mid = ""; }));
  EXPECT_TRUE(refused([](BundleDemuxConfig& c) { c.streams[0].mid = std::string(17, 'm'); }));
  EXPECT_TRUE(refused([](BundleDemuxConfig& c) { c.streams[0].mid = "a 0"; }));
  EXPECT_TRUE(refused([](BundleDemuxConfig& c) { c.streams[1].mid = "a0"; }));
  EXPECT_TRUE(refused([](BundleDemuxConfig& c) { c.streams[0].payload_types = {128}; }));
  EXPECT_TRUE(refused([](BundleDemuxConfig& c) { c.streams[0].payload_types.clear(); }));
  EXPECT_TRUE(refused([](BundleDemuxConfig& c) { c.streams[0].remote_ssrcs = {kSignalledVideo2Ssrc}; }));
  EXPECT_TRUE(refused([](BundleDemuxConfig& c) { c.streams[1].local_ssrcs = {kLocalAudioSsrc}; }));
  EXPECT_TRUE(refused([](BundleDemuxConfig& c) {
    for (std::uint32_t ssrc = 1; ssrc <= BundleDemux::kMaxSignalledSsrcs; ++ssrc)
      c.streams[0].remote_ssrcs.push_back(ssrc);
  }));
  EXPECT_TRUE(refused([](BundleDemuxConfig& c) {
    for (std::size_t i = c.streams.size(); i <= BundleDemux::kMaxStreams; ++i) {
      std::string mid(1, 'm');  // (not "m" + ...: GCC 12 warns falsely, PR 105329)
      mid += std::to_string(i);
      c.streams.push_back({.mid = mid, .payload_types = {100}});
    }
  }));
  // The largest valid MID: 16 token characters.
  EXPECT_FALSE(refused([](BundleDemuxConfig& c) { c.streams[0].mid = "abcdefghijklmn-_"; }));
}

TEST(BundleDemux, MidExtensionRoutesAndBindsTheSsrc) {
  auto demux = make_demux();
  EXPECT_EQ(route(demux, kAudioMidA0), kAudio);
  EXPECT_EQ(demux.counters().routed_by_mid, 1u);
  EXPECT_EQ(demux.learned_ssrc_count(), 1u);
  EXPECT_EQ(demux.route_rtcp_ssrc(0x11111111), kAudio);
  // RFC 8843 §9.2 step 3: once bound, the SSRC alone routes.
  EXPECT_EQ(route(demux, 0x11111111, 2, 111), kAudio);
  EXPECT_EQ(demux.counters().routed_by_ssrc, 1u);
}

TEST(BundleDemux, MidRoutesDespiteASharedPayloadType) {
  auto demux = make_demux();
  EXPECT_EQ(route(demux, kRtxMidV1), kVideo1);
  EXPECT_EQ(route(demux, kRtxPlain), kVideo1);
  EXPECT_EQ(demux.counters().routed_by_mid, 1u);
  EXPECT_EQ(demux.counters().routed_by_ssrc, 1u);
  // Another SSRC on PT 97 with no MID: two sections receive 97, so nothing identifies it.
  EXPECT_EQ(route(demux, 0x77777777, 1, 97), std::nullopt);
  EXPECT_EQ(demux.counters().unroutable, 1u);
  EXPECT_EQ(demux.route_rtcp_ssrc(0x77777777), std::nullopt);
}

TEST(BundleDemux, TwoByteFormMidRoutes) {
  auto demux = make_demux();
  EXPECT_EQ(route(demux, kTwoByteMidV2), kVideo2);
  EXPECT_EQ(demux.route_rtcp_ssrc(0x66666666), kVideo2);
}

TEST(BundleDemux, UniquePayloadTypeRoutesAndBinds) {
  auto demux = make_demux();
  EXPECT_EQ(route(demux, 0x88888888, 1, 98), kVideo2);
  EXPECT_EQ(demux.counters().routed_by_pt, 1u);
  EXPECT_EQ(demux.learned_ssrc_count(), 1u);
  // Bound now, so the shared RTX payload type of the same SSRC goes to v2 too.
  EXPECT_EQ(route(demux, 0x88888888, 2, 97), kVideo2);
  EXPECT_EQ(demux.counters().routed_by_ssrc, 1u);
}

TEST(BundleDemux, NothingMatchesIsUnroutable) {
  auto demux = make_demux();
  EXPECT_EQ(route(demux, 0x99999999, 1, 0), std::nullopt);  // PCMU: no section receives it
  EXPECT_EQ(demux.counters().unroutable, 1u);
  EXPECT_EQ(demux.learned_ssrc_count(), 0u);
}

TEST(BundleDemux, SignalledSsrcRoutesWithoutLearning) {
  auto demux = make_demux();
  EXPECT_EQ(route(demux, kSignalledVideo2Ssrc, 1, 97), kVideo2);
  EXPECT_EQ(demux.counters().routed_by_ssrc, 1u);
  EXPECT_EQ(demux.learned_ssrc_count(), 0u);
  EXPECT_EQ(demux.route_rtcp_ssrc(kSignalledVideo2Ssrc), kVideo2);
}

TEST(BundleDemux, MidOverridesASignalledSsrc) {
  auto demux = make_demux();
  EXPECT_EQ(route(demux, kSignalledVideo2Ssrc, 1, 97, "v1"), kVideo1);
  EXPECT_EQ(route(demux, kSignalledVideo2Ssrc, 2, 97), kVideo1);
  EXPECT_EQ(demux.route_rtcp_ssrc(kSignalledVideo2Ssrc), kVideo1);
  // A BYE forgets the learned binding; the signalled one is back.
  demux.forget_ssrc(kSignalledVideo2Ssrc);
  EXPECT_EQ(demux.route_rtcp_ssrc(kSignalledVideo2Ssrc), kVideo2);
  EXPECT_EQ(route(demux, kSignalledVideo2Ssrc, 3, 97), kVideo2);
}

TEST(BundleDemux, RebindsWhenTheMidChanges) {
  auto demux = make_demux();
  EXPECT_EQ(route(demux, 0x12345678, 10, 97, "v1"), kVideo1);
  EXPECT_EQ(route(demux, 0x12345678, 11, 97, "v2"), kVideo2);
  EXPECT_EQ(demux.counters().rebound, 1u);
  EXPECT_EQ(route(demux, 0x12345678, 12, 97), kVideo2);
  EXPECT_EQ(demux.route_rtcp_ssrc(0x12345678), kVideo2);
  EXPECT_EQ(demux.learned_ssrc_count(), 1u);
}

TEST(BundleDemux, PayloadTypeBindingIsRebindableByMid) {
  auto demux = make_demux();
  EXPECT_EQ(route(demux, 0x0BADF00D, 1, 98), kVideo2);        // learned from PT
  EXPECT_EQ(route(demux, 0x0BADF00D, 2, 97, "v1"), kVideo1);  // the MID wins
  EXPECT_EQ(demux.counters().rebound, 1u);
}

TEST(BundleDemux, AReorderedOlderMidDoesNotRebind) {
  auto demux = make_demux();
  EXPECT_EQ(route(demux, 0x12345678, 100, 97, "v1"), kVideo1);
  EXPECT_EQ(route(demux, 0x12345678, 101, 97, "v2"), kVideo2);
  // RFC 7941 §4.2.6: 99 was sent before the update to v2; it follows the current binding.
  EXPECT_EQ(route(demux, 0x12345678, 99, 97, "v1"), kVideo2);
  EXPECT_EQ(demux.counters().rebound, 1u);
  EXPECT_EQ(route(demux, 0x12345678, 102, 97), kVideo2);
  // Across the 16-bit wrap, 0 comes after 65535.
  EXPECT_EQ(route(demux, 0x0000CAFE, 65535, 97, "v1"), kVideo1);
  EXPECT_EQ(route(demux, 0x0000CAFE, 0, 97, "v2"), kVideo2);
  EXPECT_EQ(demux.counters().rebound, 2u);
}

TEST(BundleDemux, UnknownMidIsDroppedAndNotLearned) {
  auto demux = make_demux();
  // RFC 8843 §9.2 step 1: a MID in no section marks the stream not for decoding, even though
  // its payload type alone would have identified a0.
  EXPECT_EQ(route(demux, kUnknownMid), std::nullopt);
  EXPECT_EQ(demux.counters().unknown_mid, 1u);
  EXPECT_EQ(demux.counters().routed_by_pt, 0u);
  EXPECT_EQ(demux.learned_ssrc_count(), 0u);
  EXPECT_EQ(demux.route_rtcp_ssrc(0x44444444), std::nullopt);
}

TEST(BundleDemux, OverlongAndEmptyMidsAreDropped) {
  auto demux = make_demux();
  EXPECT_EQ(route(demux, kOverlongMid), std::nullopt);
  EXPECT_EQ(route(demux, kEmptyMid), std::nullopt);
  EXPECT_EQ(demux.counters().unknown_mid, 2u);
  EXPECT_EQ(demux.learned_ssrc_count(), 0u);
}

TEST(BundleDemux, MidIsIgnoredWhenNotNegotiated) {
  // No a=extmap for the MID: the element is someone else's (or nothing), so PT 111 routes.
  auto demux = make_demux(three_sections(0));
  EXPECT_EQ(route(demux, kAudioMidA0), kAudio);
  EXPECT_EQ(demux.counters().routed_by_pt, 1u);
  EXPECT_EQ(demux.counters().routed_by_mid, 0u);
  // Negotiated on another id: id 3 is then not the MID either.
  auto other = make_demux(three_sections(5));
  EXPECT_EQ(route(other, kUnknownMid), kAudio);
  EXPECT_EQ(other.counters().unknown_mid, 0u);
}

TEST(BundleDemux, PayloadTypeOutsideTheStreamIsDropped) {
  auto demux = make_demux();
  EXPECT_EQ(route(demux, kAudioMidA0), kAudio);
  // RFC 8843 §9.2 step 3: SSRC bound to a0, but a0 does not receive VP8.
  EXPECT_EQ(route(demux, 0x11111111, 2, 96), std::nullopt);
  // With a MID the check is the same.
  EXPECT_EQ(route(demux, 0x11111111, 3, 96, "a0"), std::nullopt);
  EXPECT_EQ(demux.counters().payload_type_mismatch, 2u);
  EXPECT_EQ(demux.route_rtcp_ssrc(0x11111111), kAudio);
}

TEST(BundleDemux, EvictsTheLeastRecentlyBoundAtTheBound) {
  auto demux = make_demux();
  constexpr std::uint32_t kFirst = 1000;
  for (std::uint32_t i = 0; i < BundleDemux::kMaxLearnedSsrcs; ++i) {
    ASSERT_EQ(route(demux, kFirst + i, 1, 98), kVideo2);
  }
  EXPECT_EQ(demux.learned_ssrc_count(), BundleDemux::kMaxLearnedSsrcs);
  EXPECT_EQ(demux.counters().evicted, 0u);
  // kFirst is confirmed by its MID, so kFirst + 1 is now the least recently bound.
  EXPECT_EQ(route(demux, kFirst, 2, 98, "v2"), kVideo2);
  EXPECT_EQ(route(demux, 5000, 1, 98), kVideo2);
  EXPECT_EQ(demux.counters().evicted, 1u);
  EXPECT_EQ(demux.learned_ssrc_count(), BundleDemux::kMaxLearnedSsrcs);
  EXPECT_EQ(demux.route_rtcp_ssrc(kFirst + 1), std::nullopt);
  EXPECT_EQ(route(demux, kFirst + 1, 2, 97), std::nullopt);  // shared PT: no longer routable
  EXPECT_EQ(route(demux, kFirst, 3, 97), kVideo2);
  EXPECT_EQ(route(demux, 5000, 2, 97), kVideo2);
  // Many more: the table never grows past the bound.
  for (std::uint32_t i = 0; i < 200; ++i) route(demux, 10'000 + i, 1, 111);
  EXPECT_EQ(demux.learned_ssrc_count(), BundleDemux::kMaxLearnedSsrcs);
  EXPECT_EQ(demux.counters().evicted, 201u);
}

TEST(BundleDemux, RtcpRoutesOurOwnSsrcs) {
  auto demux = make_demux();
  EXPECT_EQ(demux.route_rtcp_local_ssrc(kLocalAudioSsrc), kAudio);
  EXPECT_EQ(demux.route_rtcp_local_ssrc(kLocalVideo1Ssrc), kVideo1);
  EXPECT_EQ(demux.route_rtcp_local_ssrc(kSignalledVideo2Ssrc), std::nullopt);  // the peer's, not ours
  EXPECT_EQ(demux.route_rtcp_ssrc(kLocalAudioSsrc), std::nullopt);
}

}  // namespace bundle_demux_test
}  // namespace chorus::media
