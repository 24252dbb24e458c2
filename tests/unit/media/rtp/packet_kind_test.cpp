// classify_packet: RFC 7983 §7 first-byte ranges, RFC 5761 §4 RTP/RTCP split on the second byte,
// and each protocol's minimum header size.
#include "media/rtp/packet_kind.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <span>

namespace chorus::media {
namespace packet_kind_test {

// RFC 5389 §6: Binding request with no attributes.
constexpr std::array<std::uint8_t, 20> kStunBindingRequest = {
    0x00, 0x01,              // message type: Binding request (first byte 0: RFC 7983 STUN range)
    0x00, 0x00,              // message length: no attributes
    0x21, 0x12, 0xA4, 0x42,  // magic cookie
    0xB7, 0xE7, 0xA7, 0x01, 0xBC, 0x34, 0xD6, 0x86, 0xFA, 0x87, 0xDF, 0xAE,  // transaction ID
};

// RFC 6347 §4.1: the record header of a DTLS 1.2 handshake record carrying a ClientHello.
constexpr std::array<std::uint8_t, 14> kDtlsClientHelloRecord = {
    0x16,                                // content type 22: handshake (RFC 7983 DTLS range 20..63)
    0xFE, 0xFD,                          // version: DTLS 1.2
    0x00, 0x00,                          // epoch 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // sequence number 0
    0x00, 0x01,                          // length: 1 byte of fragment follows
    0x01,                                // handshake type 1: ClientHello
};

// RFC 3550 §5.1: Opus RTP packet.
constexpr std::array<std::uint8_t, 13> kRtpOpus = {
    0x80,                    // V=2 P=0 X=0 CC=0
    0x6F,                    // M=0 PT=111
    0x00, 0x01,              // sequence number 1
    0x00, 0x00, 0x03, 0xC0,  // timestamp 960
    0x12, 0x34, 0x56, 0x78,  // SSRC
    0xFC,                    // payload
};

// RFC 3550 §6.4.1: Sender report without report blocks.
constexpr std::array<std::uint8_t, 28> kRtcpSenderReport = {
    0x80,                    // V=2 P=0 RC=0
    0xC8,                    // PT=200 (SR)
    0x00, 0x06,              // length: 6 words after this one
    0x12, 0x34, 0x56, 0x78,  // SSRC of sender
    0xE9, 0x8A, 0x4B, 0x00,  // NTP timestamp, most significant word
    0x00, 0x00, 0x00, 0x00,  // NTP timestamp, least significant word
    0x00, 0x00, 0x03, 0xC0,  // RTP timestamp
    0x00, 0x00, 0x00, 0x0A,  // sender's packet count
    0x00, 0x00, 0x06, 0x40,  // sender's octet count
};

std::span<const std::uint8_t> first(std::span<const std::uint8_t> bytes, std::size_t n) {
  return bytes.first(n);
}

TEST(ClassifyPacket, StunBindingRequestIsStun) {
  EXPECT_EQ(classify_packet(kStunBindingRequest), PacketKind::kStun);
}

TEST(ClassifyPacket, StunWithoutMagicCookieIsUnknown) {
  auto bytes = kStunBindingRequest;
  bytes[7] = 0x43;
  EXPECT_EQ(classify_packet(bytes), PacketKind::kUnknown);
}

TEST(ClassifyPacket, StunShorterThanItsHeaderIsUnknown) {
  EXPECT_EQ(classify_packet(first(kStunBindingRequest, 19)), PacketKind::kUnknown);
}

TEST(ClassifyPacket, DtlsClientHelloRecordIsDtls) {
  EXPECT_EQ(classify_packet(kDtlsClientHelloRecord), PacketKind::kDtls);
  EXPECT_EQ(classify_packet(first(kDtlsClientHelloRecord, 13)), PacketKind::kDtls);
}

TEST(ClassifyPacket, DtlsShorterThanRecordHeaderIsUnknown) {
  EXPECT_EQ(classify_packet(first(kDtlsClientHelloRecord, 12)), PacketKind::kUnknown);
}

TEST(ClassifyPacket, DtlsRangeCoversFirstBytes20To63) {
  auto bytes = kDtlsClientHelloRecord;
  for (int b : {20, 63}) {
    bytes[0] = static_cast<std::uint8_t>(b);
    EXPECT_EQ(classify_packet(bytes), PacketKind::kDtls) << b;
  }
  for (int b : {19, 64}) {
    bytes[0] = static_cast<std::uint8_t>(b);
    EXPECT_EQ(classify_packet(bytes), PacketKind::kUnknown) << b;
  }
}

TEST(ClassifyPacket, RtpPayloadType111IsRtp) {
  EXPECT_EQ(classify_packet(kRtpOpus), PacketKind::kRtp);
}

TEST(ClassifyPacket, RtpWithMarkerBitOutsideRtcpRangeIsRtp) {
  auto bytes = kRtpOpus;
  bytes[1] = 0x80 | 111;  // 239: above 223
  EXPECT_EQ(classify_packet(bytes), PacketKind::kRtp);
  bytes[1] = 0x80 | 63;  // 191: below 192
  EXPECT_EQ(classify_packet(bytes), PacketKind::kRtp);
  bytes[1] = 0x80 | 96;  // 224
  EXPECT_EQ(classify_packet(bytes), PacketKind::kRtp);
}

TEST(ClassifyPacket, RtpShorterThanFixedHeaderIsUnknown) {
  EXPECT_EQ(classify_packet(first(kRtpOpus, 11)), PacketKind::kUnknown);
}

TEST(ClassifyPacket, RtcpSenderReportIsRtcp) {
  EXPECT_EQ(classify_packet(kRtcpSenderReport), PacketKind::kRtcp);
}

// RFC 5761 §4: marker bit + payload type 64..95 reads as RTCP packet types 192..223 — which is why
// those payload types are forbidden on a muxed port. The demultiplexer must call it RTCP.
TEST(ClassifyPacket, SecondByteInMarkerShiftedRtcpRangeIsRtcp) {
  auto bytes = kRtpOpus;
  bytes[1] = 0x80 | 72;  // M=1 PT=72 == 200 (SR)
  EXPECT_EQ(classify_packet(bytes), PacketKind::kRtcp);
  bytes[1] = 0x80 | 64;  // 192, lowest
  EXPECT_EQ(classify_packet(bytes), PacketKind::kRtcp);
  bytes[1] = 0x80 | 95;  // 223, highest
  EXPECT_EQ(classify_packet(bytes), PacketKind::kRtcp);
}

TEST(ClassifyPacket, RtcpShorterThanEightBytesIsUnknown) {
  EXPECT_EQ(classify_packet(first(kRtcpSenderReport, 8)), PacketKind::kRtcp);
  EXPECT_EQ(classify_packet(first(kRtcpSenderReport, 7)), PacketKind::kUnknown);
}

TEST(ClassifyPacket, EmptyAndUnservedRangesAreUnknown) {
  EXPECT_EQ(classify_packet({}), PacketKind::kUnknown);
  auto bytes = kRtpOpus;
  for (int b : {4, 16, 19, 64, 79, 127, 192, 255}) {  // gap, ZRTP, TURN channel, RTP version 3
    bytes[0] = static_cast<std::uint8_t>(b);
    EXPECT_EQ(classify_packet(bytes), PacketKind::kUnknown) << b;
  }
}

TEST(ClassifyPacket, KindsHaveNames) {
  EXPECT_EQ(to_string(PacketKind::kStun), "stun");
  EXPECT_EQ(to_string(PacketKind::kDtls), "dtls");
  EXPECT_EQ(to_string(PacketKind::kRtp), "rtp");
  EXPECT_EQ(to_string(PacketKind::kRtcp), "rtcp");
  EXPECT_EQ(to_string(PacketKind::kUnknown), "unknown");
}

}  // namespace packet_kind_test
}  // namespace chorus::media
