// SourceLatch: media goes only where the peer proved it lives (issue 12). Pure logic on a fake
// clock: proof by signaling or by received RTP, the learning window, strict source afterwards
// (only the known SSRC with continuing sequence numbers moves it), re-offers, the RTCP component.
#include "media/transport/source_latch.hpp"

#include <gtest/gtest.h>

#include <array>

namespace chorus::media {
namespace source_latch_test {

using std::chrono::milliseconds;

TransportAddress address(std::uint8_t last, std::uint16_t port) {
  return TransportAddress::ipv4({198, 51, 100, last}, port);
}

const TimePoint kStart{std::chrono::hours(1)};
constexpr std::uint8_t kPcmu = 0;
constexpr std::uint8_t kTelephoneEvent = 101;
constexpr std::uint32_t kPeerSsrc = 0x11223344;

PacketIdentity rtp(std::uint32_t ssrc, std::uint16_t sequence, std::uint8_t payload_type = kPcmu) {
  return PacketIdentity{true, payload_type, sequence, ssrc};
}

PacketIdentity rtcp(std::uint32_t sender_ssrc) {
  return PacketIdentity{false, 0, 0, sender_ssrc};
}

LatchConfig config(std::optional<TransportAddress> signalled, bool proven) {
  LatchConfig c;
  c.signalled = signalled;
  c.proven_by_signaling = proven;
  c.payload_types.set(kPcmu);
  c.payload_types.set(kTelephoneEvent);
  c.window = milliseconds(3000);
  return c;
}

// A latch that learnt kPeerSsrc at sequence 1000 from `peer`.
SourceLatch latched_to(const TransportAddress& peer) {
  SourceLatch latch(config(address(1, 5000), false), kStart);
  EXPECT_TRUE(latch.on_authenticated(peer, rtp(kPeerSsrc, 1000), kStart));
  return latch;
}

TEST(SourceLatch, AnUnprovenSdpAddressGetsNothing) {
  // The SDP names a third party (reflection): we must not send a single packet there.
  SourceLatch latch(config(address(9, 9000), /*proven=*/false), kStart);
  EXPECT_EQ(latch.destination(), std::nullopt);
  EXPECT_FALSE(latch.latched());
}

TEST(SourceLatch, TheSignalingSourcesOwnAddressIsProvenAtOnce) {
  SourceLatch latch(config(address(1, 5000), /*proven=*/true), kStart);
  EXPECT_EQ(latch.destination(), address(1, 5000));
  EXPECT_EQ(latch.admit(address(1, 5000), rtp(kPeerSsrc, 1), kStart), LatchVerdict::kAccept);
}

TEST(SourceLatch, RtpOfANegotiatedPayloadTypeProvesItsSource) {
  SourceLatch latch(config(address(1, 5000), false), kStart);
  const auto nat = address(7, 41000);  // a NATed phone: another address than its SDP says
  EXPECT_EQ(latch.admit(nat, rtp(kPeerSsrc, 1), kStart + milliseconds(10)), LatchVerdict::kAcceptIfAuthentic);
  EXPECT_TRUE(latch.on_authenticated(nat, rtp(kPeerSsrc, 1), kStart + milliseconds(10)));
  EXPECT_EQ(latch.destination(), nat);
  EXPECT_EQ(latch.ssrc(), kPeerSsrc);
}

TEST(SourceLatch, AnUnnegotiatedPayloadTypeDoesNotLatch) {
  SourceLatch latch(config(address(1, 5000), false), kStart);
  EXPECT_EQ(latch.admit(address(7, 41000), rtp(kPeerSsrc, 1, 96), kStart), LatchVerdict::kForeign);
  EXPECT_FALSE(latch.on_authenticated(address(7, 41000), rtp(kPeerSsrc, 1, 96), kStart));
  EXPECT_EQ(latch.destination(), std::nullopt);
}

TEST(SourceLatch, RtcpDoesNotLatchTheRtpComponent) {
  SourceLatch latch(config(address(1, 5000), false), kStart);
  EXPECT_EQ(latch.admit(address(7, 41000), rtcp(kPeerSsrc), kStart), LatchVerdict::kForeign);
  EXPECT_FALSE(latch.on_authenticated(address(7, 41000), rtcp(kPeerSsrc), kStart));
  EXPECT_EQ(latch.destination(), std::nullopt);
}

TEST(SourceLatch, MuxedRtcpLatchesAReceiveOnlyPeer) {
  // RFC 5761: a room system's receive-only video port sends only RTCP receiver reports, muxed.
  LatchConfig c = config(address(1, 5000), false);
  c.rtcp_muxed = true;
  SourceLatch latch(c, kStart);
  const auto nat = address(7, 41000);
  EXPECT_EQ(latch.admit(nat, rtcp(kPeerSsrc), kStart), LatchVerdict::kAcceptIfAuthentic);
  EXPECT_TRUE(latch.on_authenticated(nat, rtcp(kPeerSsrc), kStart));
  EXPECT_EQ(latch.destination(), nat);
  // The stream's SSRC for strict source is RTP's, not the report's sender SSRC.
  EXPECT_EQ(latch.ssrc(), std::nullopt);
  EXPECT_FALSE(latch.on_authenticated(nat, rtp(kPeerSsrc + 1, 7), kStart));
  EXPECT_EQ(latch.ssrc(), kPeerSsrc + 1);
  EXPECT_FALSE(latch.on_authenticated(nat, rtcp(kPeerSsrc), kStart));
  EXPECT_EQ(latch.ssrc(), kPeerSsrc + 1);
}

TEST(SourceLatch, ThePeersOtherStreamProvesTheSignalledAddressAtItsIp) {
  // The video SDP names 198.51.100.1:5000; the same peer's audio latched at 198.51.100.1:6000.
  SourceLatch latch(config(address(1, 5000), false), kStart);
  EXPECT_TRUE(latch.on_peer_proven(address(1, 6000)));
  EXPECT_EQ(latch.destination(), address(1, 5000));
  EXPECT_FALSE(latch.on_peer_proven(address(1, 6000)));  // once
  // Learning then stays open for that IP (any port), as when the signaling proved it.
  const auto late = kStart + std::chrono::seconds(10);
  EXPECT_EQ(latch.admit(address(1, 5002), rtp(kPeerSsrc, 1), late), LatchVerdict::kAcceptIfAuthentic);
  EXPECT_EQ(latch.admit(address(66, 5000), rtp(kPeerSsrc, 1), late), LatchVerdict::kForeign);
}

TEST(SourceLatch, ThePeerProvenAtAnotherIpProvesNothing) {
  // A NATed peer: its audio latched at the public address, its SDP names a private one (or a third
  // party): the SDP address stays unproven.
  SourceLatch latch(config(address(9, 5000), false), kStart);
  EXPECT_FALSE(latch.on_peer_proven(address(1, 6000)));
  EXPECT_EQ(latch.destination(), std::nullopt);
}

TEST(SourceLatch, AnAddressAlreadyLatchedIsKeptWhenThePeerIsProven) {
  auto latch = latched_to(address(1, 41000));
  EXPECT_FALSE(latch.on_peer_proven(address(1, 6000)));
  EXPECT_EQ(latch.destination(), address(1, 41000));
}

TEST(SourceLatch, NothingLatchesAfterTheWindowWithoutProof) {
  SourceLatch latch(config(address(1, 5000), false), kStart);
  const auto late = kStart + milliseconds(3000);
  EXPECT_EQ(latch.admit(address(7, 41000), rtp(kPeerSsrc, 1), late), LatchVerdict::kForeign);
  EXPECT_FALSE(latch.on_authenticated(address(7, 41000), rtp(kPeerSsrc, 1), late));
  EXPECT_EQ(latch.destination(), std::nullopt);
}

TEST(SourceLatch, ASignalingProvenIpLearnsItsPortPastTheWindowButNoOtherIp) {
  SourceLatch latch(config(address(1, 5000), /*proven=*/true), kStart);
  const auto late = kStart + std::chrono::seconds(10);
  // Another host inside the window still cannot latch: the signaling proved address(1, *).
  EXPECT_EQ(latch.admit(address(66, 5000), rtp(99, 1), kStart), LatchVerdict::kForeign);
  // The phone sends from another port than its SDP said, late: that is still it.
  EXPECT_EQ(latch.admit(address(1, 5002), rtp(kPeerSsrc, 1), late), LatchVerdict::kAcceptIfAuthentic);
  EXPECT_TRUE(latch.on_authenticated(address(1, 5002), rtp(kPeerSsrc, 1), late));
  EXPECT_EQ(latch.destination(), address(1, 5002));
}

TEST(SourceLatch, AStrangerSprayingAfterTheLatchNeverMovesIt) {
  const auto peer = address(7, 41000);
  auto latch = latched_to(peer);
  const auto stranger = address(66, 6666);
  // The spray: every payload type, random SSRCs, inside and after the window.
  for (std::uint32_t i = 0; i < 200; ++i) {
    const auto packet = rtp(0xdead0000 + i, static_cast<std::uint16_t>(i), static_cast<std::uint8_t>(i % 128));
    const auto when = kStart + milliseconds(10 * i);
    EXPECT_EQ(latch.admit(stranger, packet, when), LatchVerdict::kForeign) << i;
    EXPECT_FALSE(latch.on_authenticated(stranger, packet, when)) << i;
  }
  EXPECT_EQ(latch.destination(), peer);
  EXPECT_EQ(latch.admit(peer, rtp(kPeerSsrc, 1001), kStart), LatchVerdict::kAccept);
}

TEST(SourceLatch, TheKnownSsrcWithASequenceGapTooLargeIsForeign) {
  auto latch = latched_to(address(7, 41000));
  const auto stranger = address(66, 6666);
  // Knowing the SSRC is not enough: the sequence must continue (RFC 3550 A.1 MAX_DROPOUT).
  EXPECT_EQ(latch.admit(stranger, rtp(kPeerSsrc, 1000 + kMaxLatchSequenceGap + 1), kStart), LatchVerdict::kForeign);
  EXPECT_EQ(latch.admit(stranger, rtp(kPeerSsrc, 1000), kStart), LatchVerdict::kForeign);  // a replay
  EXPECT_EQ(latch.admit(stranger, rtp(kPeerSsrc, 999), kStart), LatchVerdict::kForeign);   // behind
}

TEST(SourceLatch, ACopyOfTheLiveStreamFromElsewhereIsForeign) {
  // Authentic packets of the caller's own stream, diverted through another socket while the caller
  // still speaks: not a rebinding (the old binding would be silent), so they move nothing.
  auto latch = latched_to(address(7, 41000));
  latch.on_authenticated(address(7, 41000), rtp(kPeerSsrc, 1001), kStart + milliseconds(500));
  const auto soon = kStart + milliseconds(500) + kLatchSilence - milliseconds(1);
  EXPECT_EQ(latch.admit(address(7, 52000), rtp(kPeerSsrc, 1002), soon), LatchVerdict::kForeign);
  EXPECT_FALSE(latch.on_authenticated(address(7, 52000), rtp(kPeerSsrc, 1002), soon));
  EXPECT_EQ(latch.destination(), address(7, 41000));
}

TEST(SourceLatch, TheKnownSsrcContinuingItsSequenceMovesIt) {
  // A NAT rebinding: the same stream resumes from a new port.
  auto latch = latched_to(address(7, 41000));
  const auto rebound = address(7, 52000);
  const auto later = kStart + std::chrono::minutes(3);
  EXPECT_EQ(latch.admit(rebound, rtp(kPeerSsrc, 1010), later), LatchVerdict::kAcceptIfAuthentic);
  EXPECT_TRUE(latch.on_authenticated(rebound, rtp(kPeerSsrc, 1010), later));
  EXPECT_EQ(latch.destination(), rebound);
  // The old binding cannot pull it back while the new one speaks.
  EXPECT_EQ(latch.admit(address(7, 41000), rtp(kPeerSsrc, 1011), later), LatchVerdict::kForeign);
}

TEST(SourceLatch, SequenceContinuityFollowsTheStreamAcrossTheWrap) {
  SourceLatch latch(config(address(1, 5000), false), kStart);
  const auto peer = address(7, 41000);
  latch.on_authenticated(peer, rtp(kPeerSsrc, 65530), kStart);
  for (std::uint16_t seq = 65531; seq != 20; ++seq) latch.on_authenticated(peer, rtp(kPeerSsrc, seq), kStart);
  // Last seen: 19. After a silence, 21 continues it; 65535 lies behind it.
  const auto later = kStart + kLatchSilence;
  EXPECT_EQ(latch.admit(address(7, 1), rtp(kPeerSsrc, 21), later), LatchVerdict::kAcceptIfAuthentic);
  EXPECT_EQ(latch.admit(address(7, 1), rtp(kPeerSsrc, 65535), later), LatchVerdict::kForeign);
}

TEST(SourceLatch, AReorderedOlderPacketDoesNotRewindTheSequence) {
  auto latch = latched_to(address(7, 41000));
  latch.on_authenticated(address(7, 41000), rtp(kPeerSsrc, 1005), kStart);
  latch.on_authenticated(address(7, 41000), rtp(kPeerSsrc, 1003), kStart);  // late arrival
  const auto later = kStart + kLatchSilence;
  EXPECT_EQ(latch.admit(address(7, 2), rtp(kPeerSsrc, 1004), later), LatchVerdict::kForeign);
  EXPECT_EQ(latch.admit(address(7, 2), rtp(kPeerSsrc, 1006), later), LatchVerdict::kAcceptIfAuthentic);
}

TEST(SourceLatch, AReOfferToANewUnprovenAddressRelearnsInANewWindow) {
  auto latch = latched_to(address(7, 41000));
  const auto later = kStart + std::chrono::minutes(2);
  latch.on_signalled(address(8, 6000), /*proven=*/false, later);
  EXPECT_EQ(latch.destination(), address(7, 41000));  // still proven until something latches
  EXPECT_EQ(latch.admit(address(8, 6000), rtp(0x55, 1), later + milliseconds(100)), LatchVerdict::kAcceptIfAuthentic);
  EXPECT_EQ(latch.admit(address(8, 6000), rtp(0x55, 1), later + milliseconds(3000)), LatchVerdict::kForeign);
}

TEST(SourceLatch, AHoldReOfferWithoutAddressChangesNothing) {
  auto latch = latched_to(address(7, 41000));
  latch.on_signalled(std::nullopt, false, kStart + std::chrono::minutes(1));  // c=0.0.0.0 (RFC 3264 §8.4)
  EXPECT_EQ(latch.destination(), address(7, 41000));
  EXPECT_TRUE(latch.latched());
}

TEST(SourceLatch, TheRtcpComponentLatchesOnRtcpAndMovesForItsSenderSsrc) {
  LatchConfig c = config(address(1, 5001), false);
  c.rtcp_component = true;
  SourceLatch latch(c, kStart);
  EXPECT_EQ(latch.admit(address(7, 41001), rtp(kPeerSsrc, 1), kStart), LatchVerdict::kForeign);
  EXPECT_EQ(latch.admit(address(7, 41001), rtcp(kPeerSsrc), kStart), LatchVerdict::kAcceptIfAuthentic);
  EXPECT_TRUE(latch.on_authenticated(address(7, 41001), rtcp(kPeerSsrc), kStart));
  EXPECT_EQ(latch.admit(address(7, 52001), rtcp(kPeerSsrc), kStart + milliseconds(20)), LatchVerdict::kForeign);
  const auto later = kStart + std::chrono::minutes(1);
  EXPECT_EQ(latch.admit(address(66, 1), rtcp(0x99), later), LatchVerdict::kForeign);
  EXPECT_TRUE(latch.on_authenticated(address(7, 52001), rtcp(kPeerSsrc), later));
  EXPECT_EQ(latch.destination(), address(7, 52001));
}

TEST(SourceLatch, NoPayloadTypeListLatchesOnAnyRtp) {
  LatchConfig c = config(address(1, 5000), false);
  c.payload_types.reset();
  SourceLatch latch(c, kStart);
  EXPECT_EQ(latch.admit(address(7, 1), rtp(1, 1, 111), kStart), LatchVerdict::kAcceptIfAuthentic);
}

// RFC 3550 §5.1: V=2, PT=0 (PCMU), sequence 0x1234, timestamp, SSRC 0xcafef00d.
constexpr std::array<std::uint8_t, 12> kRtpHeader = {
    0x80, 0x00, 0x12, 0x34,  // V=2 P=0 X=0 CC=0 | M=0 PT=0 | sequence 0x1234
    0x00, 0x00, 0x00, 0xa0,  // timestamp 160
    0xca, 0xfe, 0xf0, 0x0d,  // SSRC
};
// RFC 3550 §6.4.2: an empty receiver report from SSRC 0x01020304.
constexpr std::array<std::uint8_t, 8> kReceiverReport = {
    0x80, 0xc9, 0x00, 0x01,  // V=2 RC=0 | PT=201 RR | length 1
    0x01, 0x02, 0x03, 0x04,  // sender SSRC
};

TEST(SourceLatch, IdentifiesTheClearHeaderFields) {
  auto packet = identify_packet(kRtpHeader, true);
  ASSERT_TRUE(packet.has_value());
  EXPECT_EQ(packet->payload_type, 0);
  EXPECT_EQ(packet->sequence, 0x1234);
  EXPECT_EQ(packet->ssrc, 0xcafef00dU);
  auto report = identify_packet(kReceiverReport, false);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->ssrc, 0x01020304U);
  EXPECT_FALSE(identify_packet(std::span(kRtpHeader).first(11), true).has_value());
  EXPECT_FALSE(identify_packet(std::span(kReceiverReport).first(7), false).has_value());
}

}  // namespace source_latch_test
}  // namespace chorus::media
