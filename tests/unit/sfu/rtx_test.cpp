// RTX (RFC 4588 §4): a stored original wrapped into an RTX packet (OSN before the payload,
// header extensions copied or dropped, padding not copied) and unwrapped back, byte for byte, in
// place; padding-only probes, a lone OSN and broken packets refused without a change.
#include "sfu/rtx.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

namespace chorus::sfu {
namespace rtx_test {

// A VP8 packet as a browser sends it: one-byte extensions (RFC 8285) for abs-send-time (id 2) and
// the transport-wide sequence number (id 3), an RFC 7741 descriptor and payload, then padding.
constexpr std::array<std::uint8_t, 45> kOriginal = {
    0xB1,                    // V=2 P=1 X=1 CC=1
    0xE0,                    // M=1 PT=96 (VP8)
    0x7F, 0xF9,              // sequence number 32761
    0x41, 0x5C, 0x8F, 0xB6,  // timestamp
    0xF1, 0x47, 0x5F, 0xD3,  // SSRC 0xF1475FD3
    0x0A, 0x0B, 0x0C, 0x0D,  // CSRC
    0xBE, 0xDE, 0x00, 0x02,  // one-byte extensions, 2 words
    0x22, 0x12, 0x34, 0x56,  // id 2 L=2: abs-send-time
    0x31, 0x00, 0x2A,        // id 3 L=1: transport-wide sequence number 42
    0x00,                    // padding to the word
    0x90, 0x80, 0x5D,        // VP8 descriptor: X S, I, PictureID 93
    0x51, 0x09, 0x00, 0x0F,  // VP8 payload (inter frame)
    0x11, 0xFC, 0x00, 0x18,  //
    0x87, 0x01, 0x00,        //
    0x00, 0x00, 0x03,        // RTP padding: 3 bytes, the count byte included
};
constexpr std::size_t kOriginalHeaderSize = 28;
constexpr std::size_t kOriginalPayloadSize = 14;  // before the 3 padding bytes

// The RTX packet build_rtx_packet must produce from kOriginal with SSRC 0x5EED, PT 97, seq 7.
constexpr std::array<std::uint8_t, kOriginalHeaderSize + 2 + kOriginalPayloadSize> kExpectedRtx = {
    0x91,                    // V=2 P=0 (padding not copied) X=1 CC=1
    0xE1,                    // M=1 PT=97 (rtx, apt=96)
    0x00, 0x07,              // the RTX stream's sequence number 7
    0x41, 0x5C, 0x8F, 0xB6,  // the original's timestamp
    0x00, 0x00, 0x5E, 0xED,  // the RTX SSRC
    0x0A, 0x0B, 0x0C, 0x0D,  // CSRC
    0xBE, 0xDE, 0x00, 0x02,  // extension block as received
    0x22, 0x12, 0x34, 0x56,  //
    0x31, 0x00, 0x2A, 0x00,  //
    0x7F, 0xF9,              // OSN 32761
    0x90, 0x80, 0x5D, 0x51, 0x09, 0x00, 0x0F, 0x11, 0xFC, 0x00, 0x18, 0x87, 0x01, 0x00,  // original payload
};

// A probe as libwebrtc sends on the RTX SSRC: no payload, padding only.
constexpr std::array<std::uint8_t, 16> kPaddingProbe = {
    0xA0,                    // V=2 P=1 X=0 CC=0
    0x61,                    // PT=97
    0x00, 0x08,              // RTX sequence number 8
    0x41, 0x5C, 0x8F, 0xB6,  // timestamp
    0x00, 0x00, 0x5E, 0xED,  // RTX SSRC
    0x00, 0x00, 0x00, 0x04,  // 4 bytes of padding
};

constexpr RtxSendParams kSend{.ssrc = 0x5EED, .payload_type = 97, .sequence_number = 7};
constexpr RtxRepairParams kRepair{.media_ssrc = 0xF1475FD3, .media_payload_type = 96};

media::RtpPacket parse(std::span<std::uint8_t> bytes) {
  auto packet = media::RtpPacket::parse(bytes);
  EXPECT_TRUE(packet);
  return *packet;
}

TEST(Rtx, BuildsRfc4588PacketFromStoredOriginal) {
  auto original_bytes = kOriginal;
  const auto original = parse(original_bytes);
  ASSERT_EQ(original.header_size(), kOriginalHeaderSize);
  ASSERT_EQ(original.payload().size(), kOriginalPayloadSize);
  std::array<std::uint8_t, 1500> out{};
  const auto rtx = build_rtx_packet(original, kSend, out);
  ASSERT_TRUE(rtx) << to_string(rtx.error());
  ASSERT_EQ(rtx->size(), kExpectedRtx.size());
  EXPECT_TRUE(std::ranges::equal(rtx->bytes(), kExpectedRtx));
  EXPECT_EQ(rtx->bytes().data(), out.data());
  // The copied elements can be rewritten through the result: a transport-wide number of our own.
  auto writable = *rtx;
  EXPECT_TRUE(media::write_transport_sequence_number(writable, 3, 0x0101));
  EXPECT_EQ(media::read_transport_sequence_number(writable, 3), 0x0101);
  EXPECT_EQ(media::read_abs_send_time(writable, 2)->raw, 0x123456u);
}

TEST(Rtx, BuildCanDropTheExtensionBlock) {
  auto original_bytes = kOriginal;
  const auto original = parse(original_bytes);
  std::array<std::uint8_t, 1500> out{};
  auto params = kSend;
  params.extensions = RtxHeaderExtensions::kDrop;
  const auto rtx = build_rtx_packet(original, params, out);
  ASSERT_TRUE(rtx);
  EXPECT_EQ(rtx->extension_form(), media::ExtensionForm::kNone);
  EXPECT_EQ(rtx->header_size(), 16u);  // fixed header + one CSRC
  EXPECT_EQ(rtx->csrc(0), 0x0A0B0C0Du);
  EXPECT_EQ(rtx->payload()[0], 0x7F);  // OSN
  EXPECT_EQ(rtx->payload()[1], 0xF9);
  EXPECT_TRUE(std::ranges::equal(rtx->payload().subspan(2), original.payload()));
}

TEST(Rtx, BuildRefusesSmallBuffersBadPayloadTypesAndEmptyOriginals) {
  auto original_bytes = kOriginal;
  const auto original = parse(original_bytes);
  std::array<std::uint8_t, kExpectedRtx.size()> exact{};
  EXPECT_TRUE(build_rtx_packet(original, kSend, exact));
  std::array<std::uint8_t, kExpectedRtx.size() - 1> short_by_one{};
  EXPECT_EQ(build_rtx_packet(original, kSend, short_by_one).error(), RtxError::kBufferTooSmall);
  auto bad = kSend;
  bad.payload_type = 128;
  EXPECT_EQ(build_rtx_packet(original, bad, exact).error(), RtxError::kInvalidPayloadType);
  auto probe_bytes = kPaddingProbe;
  EXPECT_EQ(build_rtx_packet(parse(probe_bytes), kSend, exact).error(), RtxError::kEmptyOriginal);
}

TEST(Rtx, UnwrapsInPlaceIntoTheOriginal) {
  auto buffer = kExpectedRtx;
  const auto original = unwrap_rtx_in_place(buffer, kRepair);
  ASSERT_TRUE(original) << to_string(original.error());
  EXPECT_EQ(original->bytes().data(), buffer.data() + kRtxOsnSize);  // no payload was copied
  EXPECT_EQ(original->sequence_number(), 32761);
  EXPECT_EQ(original->payload_type(), 96);
  EXPECT_EQ(original->ssrc(), 0xF1475FD3u);
  EXPECT_TRUE(original->marker());
  EXPECT_EQ(original->timestamp(), 0x415C8FB6u);
  EXPECT_EQ(media::read_transport_sequence_number(*original, 3), 42);
  // Byte for byte the original without its padding (its P bit is what build cleared).
  auto expected = kOriginal;
  expected[0] = 0x91;
  EXPECT_TRUE(
      std::ranges::equal(original->bytes(), std::span{expected}.first(kOriginalHeaderSize + kOriginalPayloadSize)));
}

TEST(Rtx, UnwrapKeepsTheRtxPadding) {
  // The RTX packet itself padded by 2 bytes: the original keeps a valid padding count.
  std::vector<std::uint8_t> buffer(kExpectedRtx.begin(), kExpectedRtx.end());
  buffer[0] |= 0x20;
  buffer.push_back(0x00);
  buffer.push_back(0x02);
  const auto original = unwrap_rtx_in_place(buffer, kRepair);
  ASSERT_TRUE(original);
  EXPECT_EQ(original->padding_size(), 2u);
  EXPECT_EQ(original->payload().size(), kOriginalPayloadSize);
}

TEST(Rtx, RecognisesPaddingOnlyProbesAsNotMedia) {
  auto probe = kPaddingProbe;
  EXPECT_TRUE(is_padding_only(parse(probe)));
  EXPECT_EQ(unwrap_rtx_in_place(probe, kRepair).error(), RtxError::kPaddingOnly);
  EXPECT_EQ(probe, kPaddingProbe);
  auto media = kOriginal;
  EXPECT_FALSE(is_padding_only(parse(media)));
}

TEST(Rtx, UnwrapRefusesBrokenPacketsWithoutChangingThem) {
  // One payload byte: half an OSN.
  std::array<std::uint8_t, 13> half_osn = {0x80, 0x61, 0, 1, 0, 0, 0, 0, 0, 0, 0x5E, 0xED, 0x7F};
  const auto half_before = half_osn;
  EXPECT_EQ(unwrap_rtx_in_place(half_osn, kRepair).error(), RtxError::kTruncatedOsn);
  EXPECT_EQ(half_osn, half_before);
  // An OSN and nothing it could carry.
  std::array<std::uint8_t, 14> lone_osn = {0x80, 0x61, 0, 1, 0, 0, 0, 0, 0, 0, 0x5E, 0xED, 0x7F, 0xF9};
  EXPECT_EQ(unwrap_rtx_in_place(lone_osn, kRepair).error(), RtxError::kEmptyOriginal);
  std::array<std::uint8_t, 11> not_rtp{};
  EXPECT_EQ(unwrap_rtx_in_place(not_rtp, kRepair).error(), RtxError::kNotRtp);
  auto buffer = kExpectedRtx;
  EXPECT_EQ(unwrap_rtx_in_place(buffer, RtxRepairParams{.media_ssrc = 1, .media_payload_type = 200}).error(),
            RtxError::kInvalidPayloadType);
  EXPECT_EQ(buffer, kExpectedRtx);
}

TEST(Rtx, RoundTripsAPacketWithoutExtensions) {
  std::array<std::uint8_t, 15> plain = {0x80, 0x60, 0xFF, 0xFF, 0, 0, 0x0B, 0xB8, 0, 0, 0, 9, 0x10, 0x01, 0x02};
  const auto original = parse(plain);
  std::array<std::uint8_t, 64> out{};
  const auto rtx = build_rtx_packet(original, RtxSendParams{.ssrc = 10, .payload_type = 97, .sequence_number = 0}, out);
  ASSERT_TRUE(rtx);
  std::vector<std::uint8_t> received(rtx->bytes().begin(), rtx->bytes().end());
  const auto back = unwrap_rtx_in_place(received, RtxRepairParams{.media_ssrc = 9, .media_payload_type = 96});
  ASSERT_TRUE(back);
  EXPECT_TRUE(std::ranges::equal(back->bytes(), plain));
}

}  // namespace rtx_test
}  // namespace chorus::sfu
