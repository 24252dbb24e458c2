// RtpPacket: RFC 3550 §5.1 wire vectors parsed in place; every malformed length rejected; RFC
// 8285 one-byte and two-byte extension elements found by id; the SFU rewrite path changing only
// its own bytes; write_rtp_header output parsing back.
#include "media/rtp/rtp_packet.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "media/rtp/rtp_header_writer.hpp"

namespace chorus::media {
namespace rtp_packet_test {

constexpr std::array<std::uint8_t, 15> kMinimal = {
    0x80,                    // V=2 P=0 X=0 CC=0
    0x6F,                    // M=0 PT=111 (Opus)
    0x12, 0x34,              // sequence number 0x1234
    0x00, 0x01, 0xE2, 0x40,  // timestamp 123456
    0xDE, 0xAD, 0xBE, 0xEF,  // SSRC 0xDEADBEEF
    0x01, 0x02, 0x03,        // payload
};

constexpr std::array<std::uint8_t, 21> kTwoCsrcs = {
    0x82,                    // V=2 P=0 X=0 CC=2
    0xE0,                    // M=1 PT=96
    0x00, 0x01,              // sequence number 1
    0x00, 0x00, 0x00, 0x00,  // timestamp 0
    0x11, 0x11, 0x11, 0x11,  // SSRC (the mixer)
    0x22, 0x22, 0x22, 0x22,  // CSRC 1
    0x33, 0x33, 0x33, 0x33,  // CSRC 2
    0xAA,                    // payload
};

// RFC 8285 §4.2 one-byte form. Negotiated ids: 1 audio level, 2 abs-send-time, 3 mid, 4 TWCC.
constexpr std::array<std::uint8_t, 34> kOneByteExtensions = {
    0x90,                    // V=2 P=0 X=1 CC=0
    0x6F,                    // M=0 PT=111
    0x00, 0x10,              // sequence number 16
    0x00, 0x00, 0x03, 0xC0,  // timestamp 960
    0x01, 0x02, 0x03, 0x04,  // SSRC
    0xBE, 0xDE,              // profile: one-byte form
    0x00, 0x04,              // length: 4 words
    0x10, 0x85,              // id 1, L=0: audio level, V=1, level 5 -dBov
    0x00,                    // padding byte between elements
    0x31, 'a',  '0',         // id 3, L=1: mid "a0"
    0x22, 0x12, 0x34, 0x56,  // id 2, L=2: abs-send-time 0x123456
    0x41, 0x01, 0x02,        // id 4, L=1: transport-wide sequence number 0x0102
    0x00, 0x00, 0x00,        // padding to the word boundary
    0xFF, 0xFE,              // payload
};

// RFC 8285 §4.3 two-byte form. Negotiated ids: 1 (an empty marker element), 5 rid, 32 abs-send-time.
constexpr std::array<std::uint8_t, 29> kTwoByteExtensions = {
    0x90,                          // V=2 P=0 X=1 CC=0
    0x60,                          // M=0 PT=96
    0x00, 0x20,                    // sequence number 32
    0x00, 0x00, 0x0B, 0xB8,        // timestamp 3000
    0x0A, 0x0B, 0x0C, 0x0D,        // SSRC
    0x10, 0x00,                    // profile: two-byte form, appbits 0
    0x00, 0x03,                    // length: 3 words
    0x01, 0x00,                    // id 1, length 0 (allowed in this form)
    0x05, 0x02, 'h',  'i',         // id 5, length 2: rid "hi"
    0x20, 0x03, 0x12, 0x34, 0x56,  // id 32, length 3: abs-send-time
    0x00,                          // padding to the word boundary
    0x77,                          // payload
};

constexpr std::array<std::uint8_t, 17> kPadded = {
    0xA0,                    // V=2 P=1 X=0 CC=0
    0x00,                    // M=0 PT=0 (PCMU)
    0x00, 0x05,              // sequence number 5
    0x00, 0x00, 0x00, 0xA0,  // timestamp 160
    0x55, 0x55, 0x55, 0x55,  // SSRC
    0x11, 0x22,              // payload
    0x00, 0x00, 0x03,        // padding: 3 bytes, this count included
};

template <std::size_t N>
std::optional<RtpPacket> parse_copy(std::array<std::uint8_t, N>& storage) {
  return RtpPacket::parse(storage);
}

TEST(RtpPacket, ParsesMinimalPacket) {
  auto bytes = kMinimal;
  const auto packet = parse_copy(bytes);
  ASSERT_TRUE(packet);
  EXPECT_FALSE(packet->marker());
  EXPECT_EQ(packet->payload_type(), 111);
  EXPECT_EQ(packet->sequence_number(), 0x1234);
  EXPECT_EQ(packet->timestamp(), 123456u);
  EXPECT_EQ(packet->ssrc(), 0xDEADBEEFu);
  EXPECT_EQ(packet->csrc_count(), 0u);
  EXPECT_EQ(packet->header_size(), 12u);
  EXPECT_EQ(packet->padding_size(), 0u);
  EXPECT_EQ(packet->extension_form(), ExtensionForm::kNone);
  EXPECT_FALSE(packet->extension(1));
  ASSERT_EQ(packet->payload().size(), 3u);
  EXPECT_EQ(packet->payload().data(), bytes.data() + 12);  // a view, not a copy
}

TEST(RtpPacket, HeaderOnlyPacketHasEmptyPayload) {
  std::array<std::uint8_t, 12> bytes{};
  std::copy_n(kMinimal.begin(), 12, bytes.begin());
  const auto packet = parse_copy(bytes);
  ASSERT_TRUE(packet);
  EXPECT_TRUE(packet->payload().empty());
}

TEST(RtpPacket, ParsesCsrcList) {
  auto bytes = kTwoCsrcs;
  const auto packet = parse_copy(bytes);
  ASSERT_TRUE(packet);
  EXPECT_TRUE(packet->marker());
  EXPECT_EQ(packet->payload_type(), 96);
  ASSERT_EQ(packet->csrc_count(), 2u);
  EXPECT_EQ(packet->csrc(0), 0x22222222u);
  EXPECT_EQ(packet->csrc(1), 0x33333333u);
  EXPECT_EQ(packet->csrc_bytes().size(), 8u);
  EXPECT_EQ(packet->header_size(), 20u);
  ASSERT_EQ(packet->payload().size(), 1u);
  EXPECT_EQ(packet->payload()[0], 0xAA);
}

TEST(RtpPacket, FindsOneByteExtensionElements) {
  auto bytes = kOneByteExtensions;
  const auto packet = parse_copy(bytes);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->extension_form(), ExtensionForm::kOneByte);
  EXPECT_EQ(packet->extension_block().size(), 16u);
  EXPECT_EQ(packet->header_size(), 32u);
  ASSERT_EQ(packet->payload().size(), 2u);

  const auto level = read_audio_level(*packet, 1);
  ASSERT_TRUE(level);
  EXPECT_TRUE(level->voice_activity);
  EXPECT_EQ(level->level_dbov, 5);
  EXPECT_EQ(read_mid(*packet, 3), "a0");
  const auto send_time = read_abs_send_time(*packet, 2);
  ASSERT_TRUE(send_time);
  EXPECT_EQ(send_time->raw, 0x123456u);
  // 0x123456 / 2^18 s = 4.551109... s
  EXPECT_EQ(send_time->to_duration(), std::chrono::microseconds{4551109});
  EXPECT_EQ(read_transport_sequence_number(*packet, 4), 0x0102);
  EXPECT_FALSE(packet->extension(5));
  EXPECT_FALSE(packet->extension(0));
  EXPECT_FALSE(packet->extension(15));
}

TEST(RtpPacket, ExtensionParsersRejectWrongSizes) {
  auto bytes = kOneByteExtensions;
  const auto packet = parse_copy(bytes);
  ASSERT_TRUE(packet);
  EXPECT_FALSE(read_audio_level(*packet, 3));                // 2 bytes, not 1
  EXPECT_FALSE(read_abs_send_time(*packet, 1));              // 1 byte, not 3
  EXPECT_FALSE(read_transport_sequence_number(*packet, 2));  // 3 bytes, not 2
  EXPECT_FALSE(read_rid(*packet, 1));                        // 0x85 is not a rid character
}

TEST(RtpPacket, OneByteIdFifteenStopsTheWalk) {
  auto bytes = kOneByteExtensions;
  bytes[16] = 0xF0;  // RFC 8285 §4.2: id 15 where the audio level was; nothing after it counts
  const auto packet = parse_copy(bytes);
  ASSERT_TRUE(packet);
  EXPECT_FALSE(packet->extension(3));
  EXPECT_FALSE(packet->extension(2));
}

TEST(RtpPacket, OneByteElementOverrunningTheBlockIsNotReturned) {
  auto bytes = kOneByteExtensions;
  bytes[26] = 0x4F;  // id 4 now claims 16 bytes, past the block's end
  const auto packet = parse_copy(bytes);
  ASSERT_TRUE(packet);
  EXPECT_TRUE(packet->extension(2));  // elements before it still count
  EXPECT_FALSE(packet->extension(4));
}

TEST(RtpPacket, FindsTwoByteExtensionElements) {
  auto bytes = kTwoByteExtensions;
  const auto packet = parse_copy(bytes);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->extension_form(), ExtensionForm::kTwoByte);
  EXPECT_EQ(packet->extension_profile(), 0x1000);
  const auto empty = packet->extension(1);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  EXPECT_EQ(read_rid(*packet, 5), "hi");
  const auto send_time = read_abs_send_time(*packet, 32);
  ASSERT_TRUE(send_time);
  EXPECT_EQ(send_time->raw, 0x123456u);
  EXPECT_FALSE(read_mid(*packet, 1));  // empty text
  EXPECT_FALSE(packet->extension(2));
  ASSERT_EQ(packet->payload().size(), 1u);
  EXPECT_EQ(packet->payload()[0], 0x77);
}

TEST(RtpPacket, TwoByteFormAcceptsAnyAppbits) {
  auto bytes = kTwoByteExtensions;
  bytes[13] = 0x0F;  // profile 0x100F
  const auto packet = parse_copy(bytes);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->extension_form(), ExtensionForm::kTwoByte);
  EXPECT_EQ(read_rid(*packet, 5), "hi");
}

TEST(RtpPacket, OtherProfileBlockIsOpaque) {
  auto bytes = kOneByteExtensions;
  bytes[12] = 0x12;  // profile 0x12DE: not RFC 8285
  const auto packet = parse_copy(bytes);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->extension_form(), ExtensionForm::kOther);
  EXPECT_EQ(packet->extension_block().size(), 16u);
  EXPECT_FALSE(packet->extension(1));
}

TEST(RtpPacket, ParsesPadding) {
  auto bytes = kPadded;
  const auto packet = parse_copy(bytes);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->padding_size(), 3u);
  ASSERT_EQ(packet->payload().size(), 2u);
  EXPECT_EQ(packet->payload()[0], 0x11);
  EXPECT_EQ(packet->payload()[1], 0x22);
}

TEST(RtpPacket, PaddingMayFillEverythingAfterTheHeader) {
  auto bytes = kPadded;
  bytes[16] = 5;
  const auto packet = parse_copy(bytes);
  ASSERT_TRUE(packet);
  EXPECT_TRUE(packet->payload().empty());
}

TEST(RtpPacket, RejectsVersionOne) {
  auto bytes = kMinimal;
  bytes[0] = 0x40;  // V=1
  EXPECT_FALSE(parse_copy(bytes));
}

TEST(RtpPacket, RejectsTruncatedFixedHeader) {
  auto bytes = kMinimal;
  EXPECT_FALSE(RtpPacket::parse(std::span{bytes}.first(11)));
  EXPECT_FALSE(RtpPacket::parse({}));
}

TEST(RtpPacket, RejectsCsrcCountBeyondLength) {
  auto bytes = kTwoCsrcs;
  bytes[0] = 0x83;  // CC=3 needs 24 header bytes; the packet has 21
  EXPECT_FALSE(parse_copy(bytes));
  auto truncated = kTwoCsrcs;  // CC=2 but cut inside the second CSRC
  EXPECT_FALSE(RtpPacket::parse(std::span{truncated}.first(19)));
}

TEST(RtpPacket, RejectsExtensionLengthBeyondBuffer) {
  auto bytes = kOneByteExtensions;
  bytes[15] = 0x05;  // 5 words = 20 bytes; only 18 follow the extension header
  EXPECT_FALSE(parse_copy(bytes));
}

TEST(RtpPacket, RejectsExtensionHeaderCutShort) {
  auto bytes = kOneByteExtensions;
  EXPECT_FALSE(RtpPacket::parse(std::span{bytes}.first(14)));  // X set, 2 of 4 header bytes
}

TEST(RtpPacket, RejectsPaddingLengthZero) {
  auto bytes = kPadded;
  bytes[16] = 0;
  EXPECT_FALSE(parse_copy(bytes));
}

TEST(RtpPacket, RejectsPaddingLongerThanPayload) {
  auto bytes = kPadded;
  bytes[16] = 6;  // only 5 bytes follow the header
  EXPECT_FALSE(parse_copy(bytes));
}

TEST(RtpPacket, RejectsPaddingBitWithNothingAfterHeader) {
  std::array<std::uint8_t, 12> bytes{};
  std::copy_n(kPadded.begin(), 12, bytes.begin());
  EXPECT_FALSE(parse_copy(bytes));
}

TEST(RtpPacket, RewritingSsrcSequenceAndTimestampChangesOnlyThoseBytes) {
  auto bytes = kOneByteExtensions;
  auto packet = parse_copy(bytes);
  ASSERT_TRUE(packet);
  packet->set_sequence_number(0xA1B2);
  packet->set_timestamp(0xC3D4E5F6);
  packet->set_ssrc(0x0708090A);
  auto expected = kOneByteExtensions;
  expected[2] = 0xA1, expected[3] = 0xB2;                                            // sequence number
  expected[4] = 0xC3, expected[5] = 0xD4, expected[6] = 0xE5, expected[7] = 0xF6;    // timestamp
  expected[8] = 0x07, expected[9] = 0x08, expected[10] = 0x09, expected[11] = 0x0A;  // SSRC
  EXPECT_EQ(bytes, expected);
  EXPECT_EQ(packet->sequence_number(), 0xA1B2);
  EXPECT_EQ(packet->timestamp(), 0xC3D4E5F6u);
  EXPECT_EQ(packet->ssrc(), 0x0708090Au);
  EXPECT_EQ(read_mid(*packet, 3), "a0");
}

TEST(RtpPacket, RewritingMarkerAndPayloadTypeChangesOnlySecondByte) {
  auto bytes = kMinimal;
  auto packet = parse_copy(bytes);
  ASSERT_TRUE(packet);
  packet->set_marker(true);
  EXPECT_TRUE(packet->set_payload_type(100));
  auto expected = kMinimal;
  expected[1] = 0x80 | 100;
  EXPECT_EQ(bytes, expected);
  EXPECT_FALSE(packet->set_payload_type(128));
  EXPECT_EQ(bytes, expected);
  packet->set_marker(false);
  EXPECT_EQ(packet->payload_type(), 100);
  EXPECT_FALSE(packet->marker());
}

TEST(RtpPacket, RewritesTransportSequenceNumberInPlace) {
  auto bytes = kOneByteExtensions;
  auto packet = parse_copy(bytes);
  ASSERT_TRUE(packet);
  EXPECT_TRUE(write_transport_sequence_number(*packet, 4, 0xBEEF));
  EXPECT_EQ(read_transport_sequence_number(*packet, 4), 0xBEEF);
  EXPECT_EQ(bytes[27], 0xBE);
  EXPECT_EQ(bytes[28], 0xEF);
  EXPECT_FALSE(write_transport_sequence_number(*packet, 2, 1));  // 3-byte element
  EXPECT_FALSE(write_transport_sequence_number(*packet, 9, 1));  // absent
}

TEST(WriteRtpHeader, OutputParsesBack) {
  const std::array<std::uint32_t, 2> csrcs = {0x22222222, 0x33333333};
  const std::array<std::uint8_t, 1> level = {0x85};
  const std::array<std::uint8_t, 2> mid = {'a', '0'};
  const std::array<OneByteExtensionElement, 2> extensions = {{{1, level}, {3, mid}}};
  RtpHeaderFields fields;
  fields.marker = true;
  fields.payload_type = 111;
  fields.sequence_number = 65535;
  fields.timestamp = 0xFFFFFFFF;
  fields.ssrc = 0x01020304;
  fields.csrcs = csrcs;
  fields.extensions = extensions;

  std::array<std::uint8_t, 64> buffer{};
  const auto size = write_rtp_header(buffer, fields);
  ASSERT_TRUE(size);
  EXPECT_EQ(*size, 12u + 8u + 4u + 8u);  // elements: 2 + 3 bytes, padded to 8
  EXPECT_EQ(rtp_header_size(fields), size);
  buffer[*size] = 0x42;  // one payload byte
  const auto packet = RtpPacket::parse(std::span{buffer}.first(*size + 1));
  ASSERT_TRUE(packet);
  EXPECT_TRUE(packet->marker());
  EXPECT_EQ(packet->payload_type(), 111);
  EXPECT_EQ(packet->sequence_number(), 65535);
  EXPECT_EQ(packet->timestamp(), 0xFFFFFFFFu);
  EXPECT_EQ(packet->ssrc(), 0x01020304u);
  ASSERT_EQ(packet->csrc_count(), 2u);
  EXPECT_EQ(packet->csrc(1), 0x33333333u);
  EXPECT_EQ(packet->header_size(), *size);
  const auto audio = read_audio_level(*packet, 1);
  ASSERT_TRUE(audio);
  EXPECT_EQ(audio->level_dbov, 5);
  EXPECT_EQ(read_mid(*packet, 3), "a0");
  ASSERT_EQ(packet->payload().size(), 1u);
  EXPECT_EQ(packet->payload()[0], 0x42);
}

TEST(WriteRtpHeader, WritesTheAnnotatedVectorsBytes) {
  const std::array<std::uint32_t, 2> csrcs = {0x22222222, 0x33333333};
  RtpHeaderFields fields;
  fields.marker = true;
  fields.payload_type = 96;
  fields.sequence_number = 1;
  fields.ssrc = 0x11111111;
  fields.csrcs = csrcs;
  std::array<std::uint8_t, 20> buffer{};
  ASSERT_EQ(write_rtp_header(buffer, fields), 20u);
  EXPECT_TRUE(std::equal(buffer.begin(), buffer.end(), kTwoCsrcs.begin()));
}

TEST(WriteRtpHeader, RefusesABufferTooSmall) {
  RtpHeaderFields fields;
  std::array<std::uint8_t, 11> buffer{};
  EXPECT_FALSE(write_rtp_header(buffer, fields));
  std::array<std::uint8_t, 12> exact{};
  EXPECT_EQ(write_rtp_header(exact, fields), 12u);
}

TEST(WriteRtpHeader, RefusesFieldsThatCannotBeEncoded) {
  std::array<std::uint8_t, 128> buffer{};
  const std::array<std::uint8_t, 17> too_long{};
  const std::array<std::uint8_t, 1> one = {7};
  const std::array<std::uint32_t, 16> csrcs{};

  RtpHeaderFields bad_pt;
  bad_pt.payload_type = 128;
  EXPECT_FALSE(write_rtp_header(buffer, bad_pt));

  RtpHeaderFields many_csrcs;
  many_csrcs.csrcs = csrcs;
  EXPECT_FALSE(write_rtp_header(buffer, many_csrcs));

  for (std::uint8_t id : {std::uint8_t{0}, std::uint8_t{15}}) {
    const std::array<OneByteExtensionElement, 1> element = {{{id, one}}};
    RtpHeaderFields fields;
    fields.extensions = element;
    EXPECT_FALSE(write_rtp_header(buffer, fields)) << int{id};
  }
  const std::array<OneByteExtensionElement, 1> oversized = {{{1, too_long}}};
  const std::array<OneByteExtensionElement, 1> empty = {{{1, {}}}};
  const std::array<OneByteExtensionElement, 2> duplicate = {{{2, one}, {2, one}}};
  for (std::span<const OneByteExtensionElement> extensions :
       {std::span<const OneByteExtensionElement>{oversized}, std::span<const OneByteExtensionElement>{empty},
        std::span<const OneByteExtensionElement>{duplicate}}) {
    RtpHeaderFields fields;
    fields.extensions = extensions;
    EXPECT_FALSE(write_rtp_header(buffer, fields));
  }
}

}  // namespace rtp_packet_test
}  // namespace chorus::media
