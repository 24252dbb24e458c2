#include "media/srtp/srtp_session.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "media/srtp/sdes_answer.hpp"

namespace chorus::media {
namespace srtp_session_test {

constexpr std::size_t kPacketLength = 1200;
constexpr std::uint32_t kSsrc = 0x11223344;

std::vector<std::uint8_t> master_key(SrtpSuite suite, std::uint8_t seed) {
  std::vector<std::uint8_t> key(key_salt_length(suite));
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(seed * 31 + i);
  return key;
}

// A packet buffer with room for the SRTCP trailer; std::vector storage is suitably aligned.
std::vector<std::uint8_t> with_room(std::vector<std::uint8_t> packet) {
  packet.resize(packet.size() + kSrtcpMaxTrailer);
  return packet;
}

// RFC 3550 §5.1: V=2, no padding, extension or CSRC, M=0, PT 111 (Opus), then seq, timestamp, SSRC.
std::vector<std::uint8_t> rtp_packet(std::uint16_t seq, std::uint32_t ssrc = kSsrc,
                                     std::size_t length = kPacketLength) {
  std::vector<std::uint8_t> packet(length);
  const std::uint32_t timestamp = seq * 960u;
  packet[0] = 0x80;
  packet[1] = 111;
  packet[2] = static_cast<std::uint8_t>(seq >> 8);
  packet[3] = static_cast<std::uint8_t>(seq);
  for (int i = 0; i < 4; ++i) {
    packet[4 + i] = static_cast<std::uint8_t>(timestamp >> (24 - 8 * i));
    packet[8 + i] = static_cast<std::uint8_t>(ssrc >> (24 - 8 * i));
  }
  for (std::size_t i = 12; i < length; ++i) packet[i] = static_cast<std::uint8_t>(i * 13 + seq);
  return packet;
}

// RFC 3550 §6.4.1: a sender report with no report blocks (length field 6 → 28 octets).
std::vector<std::uint8_t> rtcp_sender_report(std::uint32_t rtp_timestamp) {
  std::vector<std::uint8_t> packet = {0x80, 200,  0x00, 0x06, 0x11, 0x22, 0x33, 0x44,   // header, SSRC
                                      0xe8, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00,   // NTP timestamp
                                      0,    0,    0,    0,                              // RTP timestamp
                                      0x00, 0x00, 0x00, 0x32, 0x00, 0x00, 0xea, 0x60};  // packets, octets
  for (int i = 0; i < 4; ++i) packet[16 + i] = static_cast<std::uint8_t>(rtp_timestamp >> (24 - 8 * i));
  return packet;
}

std::size_t rtp_tag_length(SrtpSuite suite) {
  switch (suite) {
    case SrtpSuite::kAesCm128HmacSha1_80:
      return 10;
    case SrtpSuite::kAesCm128HmacSha1_32:
      return 4;
    default:
      return 16;
  }
}

struct SessionPair {
  SrtpSession sender;
  SrtpSession receiver;
};

SessionPair make_pair(SrtpSuite suite) {
  const auto key = master_key(suite, 1);
  auto sender = SrtpSession::create(suite, key, SrtpDirection::kOutbound);
  auto receiver = SrtpSession::create(suite, key, SrtpDirection::kInbound);
  if (!sender || !receiver) {
    ADD_FAILURE() << "session creation failed: " << (sender ? receiver.error() : sender.error());
    std::abort();
  }
  return {std::move(*sender), std::move(*receiver)};
}

// Protects a fresh RTP packet with `seq`; returns the wire bytes (buffer trimmed to the length).
std::vector<std::uint8_t> protect(SrtpSession& sender, std::uint16_t seq) {
  auto buffer = with_room(rtp_packet(seq));
  const auto length = sender.protect_rtp(buffer, kPacketLength);
  EXPECT_TRUE(length) << "seq " << seq;
  buffer.resize(length.value_or(0));
  return buffer;
}

std::vector<std::uint8_t> protect(SrtpSession& sender, std::uint16_t seq, std::uint32_t ssrc) {
  auto buffer = with_room(rtp_packet(seq, ssrc));
  const auto length = sender.protect_rtp(buffer, kPacketLength);
  EXPECT_TRUE(length) << "seq " << seq << " ssrc " << ssrc;
  buffer.resize(length.value_or(0));
  return buffer;
}

// Unprotects a copy of `wire` (so the caller can replay the original).
std::optional<std::size_t> deliver(SrtpSession& receiver, const std::vector<std::uint8_t>& wire) {
  auto buffer = with_room(wire);
  return receiver.unprotect_rtp(buffer, wire.size());
}

class SrtpSessionSuite : public ::testing::TestWithParam<SrtpSuite> {};

TEST_P(SrtpSessionSuite, RtpRoundTripRestoresThePacket) {
  auto [sender, receiver] = make_pair(GetParam());
  const auto plain = rtp_packet(4711);
  auto buffer = with_room(plain);
  const auto protected_length = sender.protect_rtp(buffer, plain.size());
  ASSERT_TRUE(protected_length);
  EXPECT_EQ(*protected_length, kPacketLength + rtp_tag_length(GetParam()));
  EXPECT_TRUE(std::equal(plain.begin(), plain.begin() + 12, buffer.begin()));      // header stays clear
  EXPECT_FALSE(std::equal(plain.begin() + 12, plain.end(), buffer.begin() + 12));  // payload encrypted

  const auto plain_length = receiver.unprotect_rtp(buffer, *protected_length);
  ASSERT_TRUE(plain_length);
  ASSERT_EQ(*plain_length, kPacketLength);
  EXPECT_TRUE(std::equal(plain.begin(), plain.end(), buffer.begin()));
  EXPECT_EQ(sender.counters().protected_packets, 1u);
  EXPECT_EQ(receiver.counters().unprotected_packets, 1u);
}

TEST_P(SrtpSessionSuite, RtcpRoundTripRestoresThePacket) {
  auto [sender, receiver] = make_pair(GetParam());
  const auto plain = rtcp_sender_report(96000);
  auto buffer = with_room(plain);
  const auto protected_length = sender.protect_rtcp(buffer, plain.size());
  ASSERT_TRUE(protected_length);
  // RFC 3711 §3.4: E flag and SRTCP index, then the tag (80 bits for both AES_CM suites).
  const std::size_t tag = GetParam() == SrtpSuite::kAesCm128HmacSha1_32 ? 10 : rtp_tag_length(GetParam());
  EXPECT_EQ(*protected_length, plain.size() + 4 + tag);

  const auto plain_length = receiver.unprotect_rtcp(buffer, *protected_length);
  ASSERT_TRUE(plain_length);
  ASSERT_EQ(*plain_length, plain.size());
  EXPECT_TRUE(std::equal(plain.begin(), plain.end(), buffer.begin()));
}

TEST_P(SrtpSessionSuite, ReplayedRtpPacketIsDroppedAndCounted) {
  auto [sender, receiver] = make_pair(GetParam());
  const auto wire = protect(sender, 100);
  EXPECT_TRUE(deliver(receiver, wire));
  EXPECT_FALSE(deliver(receiver, wire));
  EXPECT_EQ(receiver.counters().replay, 1u);
  EXPECT_EQ(receiver.counters().auth_failure, 0u);
  EXPECT_EQ(receiver.counters().unprotected_packets, 1u);
}

TEST_P(SrtpSessionSuite, ReplayedRtcpPacketIsDroppedAndCounted) {
  auto [sender, receiver] = make_pair(GetParam());
  const auto plain = rtcp_sender_report(1);
  auto buffer = with_room(plain);
  const auto length = sender.protect_rtcp(buffer, plain.size());
  ASSERT_TRUE(length);
  std::vector<std::uint8_t> wire(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(*length));
  auto first = with_room(wire);
  EXPECT_TRUE(receiver.unprotect_rtcp(first, wire.size()));
  auto second = with_room(wire);
  EXPECT_FALSE(receiver.unprotect_rtcp(second, wire.size()));
  EXPECT_EQ(receiver.counters().replay, 1u);
}

TEST_P(SrtpSessionSuite, FlippedPayloadBitFailsAuthenticationWithoutPoisoningTheWindow) {
  auto [sender, receiver] = make_pair(GetParam());
  const auto wire = protect(sender, 7);
  auto forged = wire;
  forged[600] ^= 0x01;
  EXPECT_FALSE(deliver(receiver, forged));
  EXPECT_EQ(receiver.counters().auth_failure, 1u);
  EXPECT_EQ(receiver.counters().replay, 0u);
  // The forgery did not advance the replay window: the genuine packet still gets through.
  EXPECT_TRUE(deliver(receiver, wire));
}

TEST_P(SrtpSessionSuite, FlippedRtcpBitFailsAuthentication) {
  auto [sender, receiver] = make_pair(GetParam());
  const auto plain = rtcp_sender_report(5);
  auto buffer = with_room(plain);
  const auto length = sender.protect_rtcp(buffer, plain.size());
  ASSERT_TRUE(length);
  buffer[10] ^= 0x80;
  EXPECT_FALSE(receiver.unprotect_rtcp(buffer, *length));
  EXPECT_EQ(receiver.counters().auth_failure, 1u);
}

TEST_P(SrtpSessionSuite, WrongKeyFailsAuthentication) {
  auto [sender, receiver] = make_pair(GetParam());
  auto stranger = SrtpSession::create(GetParam(), master_key(GetParam(), 2), SrtpDirection::kInbound);
  ASSERT_TRUE(stranger);
  const auto wire = protect(sender, 1);
  EXPECT_FALSE(deliver(*stranger, wire));
  EXPECT_EQ(stranger->counters().auth_failure, 1u);
  EXPECT_TRUE(deliver(receiver, wire));
}

TEST_P(SrtpSessionSuite, PacketOlderThanTheWindowIsDroppedAsReplay) {
  auto [sender, receiver] = make_pair(GetParam());
  const auto oldest = protect(sender, 1000);
  const auto within = protect(sender, 1000 + 1500);
  const auto newest = protect(sender, 1000 + 2000);
  EXPECT_TRUE(deliver(receiver, newest));
  EXPECT_TRUE(deliver(receiver, within));   // 500 behind: inside the 1024 window, late but fine
  EXPECT_FALSE(deliver(receiver, oldest));  // 2000 behind: outside the window
  EXPECT_EQ(receiver.counters().replay, 1u);
  EXPECT_EQ(receiver.counters().unprotected_packets, 2u);
}

TEST_P(SrtpSessionSuite, ForwardJumpAndSequenceWrapAreAccepted) {
  auto [sender, receiver] = make_pair(GetParam());
  EXPECT_TRUE(deliver(receiver, protect(sender, 100)));
  // RFC 3711 §3.3.1: a jump of less than 2^15 is read as the same rollover period.
  EXPECT_TRUE(deliver(receiver, protect(sender, 100 + 30000)));
  for (std::uint32_t seq = 65530; seq < 65536 + 6; ++seq) {
    EXPECT_TRUE(deliver(receiver, protect(sender, static_cast<std::uint16_t>(seq)))) << seq;
  }
  EXPECT_EQ(receiver.counters().unprotected_packets, 14u);
  EXPECT_EQ(receiver.counters().replay + receiver.counters().auth_failure + receiver.counters().other, 0u);
}

TEST_P(SrtpSessionSuite, ForgedPacketFarOutsideTheWindowIsDroppedAndCounted) {
  auto [sender, receiver] = make_pair(GetParam());
  EXPECT_TRUE(deliver(receiver, protect(sender, 20000)));
  // An attacker's packet claiming a sequence number half the space away: no valid tag, dropped.
  auto forged = protect(sender, 20001);
  forged[2] = static_cast<std::uint8_t>((20001 + 32768) >> 8);
  forged[3] = static_cast<std::uint8_t>(20001 + 32768);
  EXPECT_FALSE(deliver(receiver, forged));
  EXPECT_EQ(receiver.counters().auth_failure + receiver.counters().replay, 1u);
  EXPECT_TRUE(deliver(receiver, protect(sender, 20002)));
}

TEST_P(SrtpSessionSuite, RetransmissionOfTheSameRtpPacketIsProtectedAgain) {
  auto [sender, receiver] = make_pair(GetParam());
  const auto first = protect(sender, 50);
  const auto again = protect(sender, 50);
  EXPECT_EQ(first, again);
  EXPECT_EQ(sender.counters().protected_packets, 2u);
}

TEST_P(SrtpSessionSuite, KeepsAReplayWindowPerSsrc) {
  // ssrc_any_*: one session carries every stream of the RTP session, each with its own index.
  auto [sender, receiver] = make_pair(GetParam());
  const auto a = protect(sender, 500, 0xaaaa0001);
  const auto b = protect(sender, 3, 0xbbbb0002);
  EXPECT_TRUE(deliver(receiver, a));
  EXPECT_TRUE(deliver(receiver, b));  // far behind stream A's index, but B's first packet
  EXPECT_FALSE(deliver(receiver, b));
  EXPECT_TRUE(deliver(receiver, protect(sender, 501, 0xaaaa0001)));
  EXPECT_EQ(receiver.counters().unprotected_packets, 3u);
  EXPECT_EQ(receiver.counters().replay, 1u);
}

INSTANTIATE_TEST_SUITE_P(AllSuites, SrtpSessionSuite, ::testing::ValuesIn(kAllSrtpSuites),
                         [](const ::testing::TestParamInfo<SrtpSuite>& info) {
                           return std::string(suite_name(info.param));
                         });

TEST(SrtpSession, RejectsKeyOfTheWrongLength) {
  const std::vector<std::uint8_t> key(16, 1);
  const auto session = SrtpSession::create(SrtpSuite::kAesCm128HmacSha1_80, key, SrtpDirection::kOutbound);
  ASSERT_FALSE(session);
  EXPECT_NE(session.error().find("needs 30"), std::string::npos) << session.error();
}

TEST(SrtpSession, BufferWithoutRoomForTheTagIsRefusedAndCounted) {
  auto [sender, receiver] = make_pair(SrtpSuite::kAesCm128HmacSha1_80);
  auto buffer = rtp_packet(1);  // exactly the packet, no room after it
  EXPECT_FALSE(sender.protect_rtp(buffer, buffer.size()));
  buffer.resize(kPacketLength + kSrtpMaxTrailer - 1);
  EXPECT_FALSE(sender.protect_rtp(buffer, kPacketLength));
  EXPECT_EQ(sender.counters().other, 2u);
  EXPECT_EQ(sender.counters().protected_packets, 0u);
  auto rtcp = rtcp_sender_report(1);
  rtcp.resize(rtcp.size() + kSrtpMaxTrailer);  // enough for RTP, 4 octets short for SRTCP
  EXPECT_FALSE(sender.protect_rtcp(rtcp, 28));
  EXPECT_EQ(sender.counters().other, 3u);
}

TEST(SrtpSession, TruncatedOrOversizedLengthsAreRefusedAndCounted) {
  auto [sender, receiver] = make_pair(SrtpSuite::kAeadAes128Gcm);
  auto buffer = with_room(rtp_packet(1));
  EXPECT_FALSE(receiver.unprotect_rtp(buffer, 11));                 // shorter than the RTP header
  EXPECT_FALSE(receiver.unprotect_rtp(buffer, buffer.size() + 1));  // longer than the buffer
  EXPECT_FALSE(receiver.unprotect_rtcp(buffer, 4));
  EXPECT_FALSE(receiver.unprotect_rtp(buffer, 20));  // a header and a few octets: no room for a tag
  EXPECT_EQ(receiver.counters().other + receiver.counters().auth_failure, 4u);
  EXPECT_EQ(receiver.counters().replay, 0u);
}

TEST(SrtpSession, MisalignedBufferIsRefused) {
  auto [sender, receiver] = make_pair(SrtpSuite::kAesCm128HmacSha1_80);
  auto storage = with_room(rtp_packet(1));
  storage.push_back(0);
  std::span<std::uint8_t> shifted(storage.data() + 1, storage.size() - 1);
  EXPECT_FALSE(sender.protect_rtp(shifted, kPacketLength));
  EXPECT_EQ(sender.counters().other, 1u);
}

TEST(SrtpSession, EachSessionWorksOnlyInItsDirection) {
  auto [sender, receiver] = make_pair(SrtpSuite::kAesCm128HmacSha1_80);
  auto buffer = with_room(rtp_packet(1));
  EXPECT_FALSE(receiver.protect_rtp(buffer, kPacketLength));
  EXPECT_FALSE(sender.unprotect_rtp(buffer, kPacketLength));
  EXPECT_FALSE(receiver.protect_rtcp(buffer, 28));
  EXPECT_FALSE(sender.unprotect_rtcp(buffer, 28));
  EXPECT_EQ(receiver.counters().other, 2u);
  EXPECT_EQ(sender.counters().other, 2u);
}

TEST(SrtpSession, MovedSessionKeepsItsStreamState) {
  auto [sender, receiver] = make_pair(SrtpSuite::kAesCm128HmacSha1_32);
  const auto wire = protect(sender, 9);
  EXPECT_TRUE(deliver(receiver, wire));
  SrtpSession moved = std::move(receiver);
  EXPECT_FALSE(deliver(moved, wire));  // the replay window moved with it
  EXPECT_EQ(moved.counters().replay, 1u);
  EXPECT_EQ(moved.counters().unprotected_packets, 1u);
}

TEST(SrtpSession, SdesAnswerKeysInteroperate) {
  // The offerer keys its sender with its own line; we key our receiver with the line we accepted.
  const auto offered = generate_crypto_attribute(1, SrtpSuite::kAeadAes256Gcm);
  ASSERT_TRUE(offered);
  const std::vector<std::string> offer = {format_crypto_attribute(*offered)};
  const auto answer = choose_crypto(offer, kAllSrtpSuites);
  ASSERT_TRUE(answer) << answer.error();
  auto remote_sender = SrtpSession::create(offered->suite, offered->key_salt, SrtpDirection::kOutbound);
  auto our_receiver = SrtpSession::create(answer->remote.suite, answer->remote.key_salt, SrtpDirection::kInbound);
  auto our_sender = SrtpSession::create(answer->local.suite, answer->local.key_salt, SrtpDirection::kOutbound);
  const auto parsed_answer = parse_crypto_attribute(answer->answer_value);
  ASSERT_TRUE(parsed_answer);
  auto remote_receiver = SrtpSession::create(parsed_answer->suite, parsed_answer->key_salt, SrtpDirection::kInbound);
  ASSERT_TRUE(remote_sender && our_receiver && our_sender && remote_receiver);
  EXPECT_TRUE(deliver(*our_receiver, protect(*remote_sender, 1)));
  EXPECT_TRUE(deliver(*remote_receiver, protect(*our_sender, 1)));
}

}  // namespace srtp_session_test
}  // namespace chorus::media
