// Vp8Descriptor: RFC 7741 §4.2 descriptors captured from GStreamer (vp8enc ! rtpvp8pay, 7- and
// 15-bit picture ids) and hand-built ones for the temporal-layer fields; keyframe detection and
// the RFC 6386 §9.1 key frame header; every truncation refused; in-place rewrites that keep the
// field's width and touch no other byte.
#include "sfu/payload/vp8_descriptor.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

namespace chorus::sfu {
namespace vp8_descriptor_test {

// RTP payloads cut after their first bytes (the descriptor and the VP8 frame header are all the
// SFU reads). Captured from `videotestsrc ! vp8enc ! rtpvp8pay picture-id-mode=7-bit`, 176x144.
constexpr std::array<std::uint8_t, 16> kKeyframeSevenBit = {
    0x90,              // X=1 R=0 N=0 S=1 R=0 PID=0: first packet of a frame
    0x80,              // I=1 L=0 T=0 K=0
    0x5C,              // M=0 PictureID=92
    0xF0, 0x8D, 0x00,  // frame tag: P=0 (key frame), VER=0, H=1 (show), first partition size
    0x9D, 0x01, 0x2A,  // RFC 6386 §9.1 start code
    0xB0, 0x00,        // horizontal: width 176, scale 0 (little-endian)
    0x90, 0x00,        // vertical: height 144, scale 0
    0x00, 0x47, 0x08,  // first partition data
};
// The same key frame's second packet: a continuation, no payload header.
constexpr std::array<std::uint8_t, 8> kContinuationSevenBit = {
    0x80,                          // X=1 S=0 PID=0
    0x80,                          // I=1
    0x5C,                          // PictureID=92, the same picture
    0x18, 0x6C, 0x84, 0x11, 0xA4,  // partition data
};
// The next picture: an inter frame.
constexpr std::array<std::uint8_t, 9> kInterSevenBit = {
    0x90,              // X=1 S=1 PID=0
    0x80,              // I=1
    0x5D,              // PictureID=93
    0x51, 0x09, 0x00,  // frame tag: P=1 (inter frame)
    0x0F, 0x11, 0xFC,  // partition data (no start code on inter frames)
};
// `rtpvp8pay picture-id-mode=15-bit`, 640x360.
constexpr std::array<std::uint8_t, 17> kKeyframeFifteenBit = {
    0x90,              // X=1 S=1 PID=0
    0x80,              // I=1
    0x95, 0x70,        // M=1 PictureID=0x1570 (5488)
    0x30, 0xB3, 0x00,  // frame tag: P=0 (key frame)
    0x9D, 0x01, 0x2A,  // start code
    0x80, 0x02,        // width 640
    0x68, 0x01,        // height 360
    0x00, 0x47, 0x08,  // partition data
};
constexpr std::array<std::uint8_t, 10> kInterFifteenBit = {
    0x90,              // X=1 S=1 PID=0
    0x80,              // I=1
    0x95, 0x71,        // M=1 PictureID=5489
    0x11, 0x25, 0x00,  // frame tag: P=1
    0x0F, 0x11, 0xFC,  // partition data
};
// Built by hand from RFC 7741 §4.2 (the captured encoder sends no temporal layers): every
// optional field present.
constexpr std::array<std::uint8_t, 9> kAllFields = {
    0xB3,              // X=1 R=0 N=1 S=1 R=0 PID=3
    0xF0,              // I=1 L=1 T=1 K=1
    0xFF, 0xFE,        // M=1 PictureID=0x7FFE
    0x2A,              // TL0PICIDX=42
    0xB3,              // TID=2 Y=1 KEYIDX=19
    0x01, 0x02, 0x03,  // VP8 data (not a frame start: PID=3)
};
// X=0: only the required byte.
constexpr std::array<std::uint8_t, 3> kMinimal = {
    0x10,        // X=0 S=1 PID=0
    0x01, 0x02,  // frame tag: P=1
};
// K without T: the T/K byte carries only KEYIDX.
constexpr std::array<std::uint8_t, 4> kKeyIndexOnly = {
    0x90,  // X=1 S=1
    0x10,  // K=1
    0xE5,  // TID bits set but meaningless without T, KEYIDX=5
    0x01,  // VP8 data
};

template <std::size_t N>
std::expected<Vp8Descriptor, Vp8Error> parse(const std::array<std::uint8_t, N>& bytes) {
  return Vp8Descriptor::parse(bytes);
}

TEST(Vp8Descriptor, ParsesCapturedSevenBitKeyframe) {
  const auto descriptor = parse(kKeyframeSevenBit);
  ASSERT_TRUE(descriptor);
  EXPECT_EQ(descriptor->size(), 3u);
  EXPECT_TRUE(descriptor->extended());
  EXPECT_FALSE(descriptor->non_reference());
  EXPECT_TRUE(descriptor->start_of_partition());
  EXPECT_EQ(descriptor->partition_id(), 0);
  EXPECT_TRUE(descriptor->begins_frame());
  EXPECT_EQ(descriptor->picture_id_width(), PictureIdWidth::kSevenBit);
  EXPECT_EQ(descriptor->picture_id(), 92);
  EXPECT_FALSE(descriptor->tl0_pic_idx());
  EXPECT_FALSE(descriptor->temporal_id());
  EXPECT_FALSE(descriptor->key_index());
  EXPECT_EQ(descriptor->vp8_payload().data(), kKeyframeSevenBit.data() + 3);
  EXPECT_TRUE(descriptor->is_keyframe());
  EXPECT_EQ(descriptor->keyframe_info(), (Vp8KeyframeInfo{.width = 176, .height = 144}));
}

TEST(Vp8Descriptor, ParsesCapturedFifteenBitKeyframe) {
  const auto descriptor = parse(kKeyframeFifteenBit);
  ASSERT_TRUE(descriptor);
  EXPECT_EQ(descriptor->size(), 4u);
  EXPECT_EQ(descriptor->picture_id_width(), PictureIdWidth::kFifteenBit);
  EXPECT_EQ(descriptor->picture_id(), 5488);
  EXPECT_TRUE(descriptor->is_keyframe());
  EXPECT_EQ(descriptor->keyframe_info(), (Vp8KeyframeInfo{.width = 640, .height = 360}));
}

TEST(Vp8Descriptor, ContinuationAndInterFramesAreNotKeyframes) {
  const auto continuation = parse(kContinuationSevenBit);
  ASSERT_TRUE(continuation);
  EXPECT_FALSE(continuation->start_of_partition());
  EXPECT_FALSE(continuation->begins_frame());
  EXPECT_EQ(continuation->picture_id(), 92);
  EXPECT_FALSE(continuation->is_keyframe());

  const auto seven = parse(kInterSevenBit);
  ASSERT_TRUE(seven);
  EXPECT_TRUE(seven->begins_frame());
  EXPECT_EQ(seven->picture_id(), 93);
  EXPECT_FALSE(seven->is_keyframe());

  const auto fifteen = parse(kInterFifteenBit);
  ASSERT_TRUE(fifteen);
  EXPECT_EQ(fifteen->picture_id(), 5489);
  EXPECT_FALSE(fifteen->is_keyframe());
}

TEST(Vp8Descriptor, ParsesEveryOptionalField) {
  const auto descriptor = parse(kAllFields);
  ASSERT_TRUE(descriptor);
  EXPECT_EQ(descriptor->size(), 6u);
  EXPECT_TRUE(descriptor->non_reference());
  EXPECT_EQ(descriptor->partition_id(), 3);
  EXPECT_FALSE(descriptor->begins_frame());
  EXPECT_EQ(descriptor->picture_id(), 0x7FFE);
  EXPECT_EQ(descriptor->tl0_pic_idx(), 42);
  EXPECT_EQ(descriptor->temporal_id(), 2);
  EXPECT_TRUE(descriptor->layer_sync());
  EXPECT_EQ(descriptor->key_index(), 19);
  EXPECT_EQ(descriptor->picture_id_offset(), 2u);
  EXPECT_EQ(descriptor->tl0_pic_idx_offset(), 4u);
  EXPECT_FALSE(descriptor->is_keyframe());
}

TEST(Vp8Descriptor, ParsesRequiredByteAlone) {
  const auto descriptor = parse(kMinimal);
  ASSERT_TRUE(descriptor);
  EXPECT_EQ(descriptor->size(), 1u);
  EXPECT_FALSE(descriptor->extended());
  EXPECT_FALSE(descriptor->picture_id());
  EXPECT_EQ(descriptor->picture_id_width(), PictureIdWidth::kNone);
  EXPECT_TRUE(descriptor->begins_frame());
  EXPECT_FALSE(descriptor->is_keyframe());
}

TEST(Vp8Descriptor, KeyIndexWithoutTemporalIdLeavesTidAbsent) {
  const auto descriptor = parse(kKeyIndexOnly);
  ASSERT_TRUE(descriptor);
  EXPECT_EQ(descriptor->size(), 3u);
  EXPECT_FALSE(descriptor->temporal_id());
  EXPECT_FALSE(descriptor->layer_sync());
  EXPECT_EQ(descriptor->key_index(), 5);
}

TEST(Vp8Descriptor, RefusesEveryTruncation) {
  EXPECT_EQ(Vp8Descriptor::parse({}).error(), Vp8Error::kEmpty);
  // Each prefix of the all-fields descriptor stops inside it, or right after it with no data.
  for (std::size_t size = 1; size <= 6; ++size) {
    const auto result = Vp8Descriptor::parse(std::span{kAllFields}.first(size));
    ASSERT_FALSE(result) << size;
    EXPECT_EQ(result.error(), size == 6 ? Vp8Error::kNoPayload : Vp8Error::kTruncated) << size;
  }
  // A 15-bit PictureID whose second byte is missing.
  constexpr std::array<std::uint8_t, 3> kHalfPictureId = {0x90, 0x80, 0x95};
  EXPECT_EQ(parse(kHalfPictureId).error(), Vp8Error::kTruncated);
  // The required byte alone carries no VP8 data.
  constexpr std::array<std::uint8_t, 1> kRequiredOnly = {0x10};
  EXPECT_EQ(parse(kRequiredOnly).error(), Vp8Error::kNoPayload);
  EXPECT_FALSE(to_string(Vp8Error::kTruncated).empty());
}

TEST(Vp8Descriptor, KeyframeNeedsTheWholeStartCodeAndSizes) {
  // Cut the captured key frame inside its 10-byte header: no longer a keyframe, still parses.
  for (std::size_t size = 4; size < 13; ++size) {
    const auto descriptor = Vp8Descriptor::parse(std::span{kKeyframeSevenBit}.first(size));
    ASSERT_TRUE(descriptor) << size;
    EXPECT_FALSE(descriptor->is_keyframe()) << size;
  }
  auto corrupt = kKeyframeSevenBit;
  corrupt[7] = 0x02;  // start code 9d 02 2a
  EXPECT_FALSE(parse(corrupt)->is_keyframe());
  auto later_partition = kKeyframeSevenBit;
  later_partition[0] = 0x91;  // PID=1: §4.3 has no payload header there
  EXPECT_FALSE(parse(later_partition)->is_keyframe());
}

TEST(Vp8Descriptor, ReadsKeyframeScaling) {
  auto scaled = kKeyframeFifteenBit;
  scaled[11] = 0x42;  // width 640 | horizontal scale 1 (5/4)
  scaled[13] = 0xC1;  // height 360 | vertical scale 3 (2)
  EXPECT_EQ(parse(scaled)->keyframe_info(),
            (Vp8KeyframeInfo{.width = 640, .height = 360, .horizontal_scale = 1, .vertical_scale = 3}));
}

TEST(Vp8Descriptor, RewritesSevenBitPictureIdModulo128) {
  auto bytes = kKeyframeSevenBit;
  ASSERT_TRUE(write_vp8_picture_id(bytes, 300));  // 300 mod 128 = 44
  EXPECT_EQ(bytes[2], 44);
  EXPECT_EQ(parse(bytes)->picture_id(), 44);
  EXPECT_EQ(parse(bytes)->picture_id_width(), PictureIdWidth::kSevenBit);
  bytes[2] = kKeyframeSevenBit[2];
  EXPECT_EQ(bytes, kKeyframeSevenBit);  // no other byte moved
}

TEST(Vp8Descriptor, RewritesFifteenBitPictureIdKeepingTheMBit) {
  auto bytes = kKeyframeFifteenBit;
  ASSERT_TRUE(write_vp8_picture_id(bytes, 0x8001));  // mod 2^15 = 1
  EXPECT_EQ(bytes[2], 0x80);
  EXPECT_EQ(bytes[3], 0x01);
  EXPECT_EQ(parse(bytes)->picture_id(), 1);
  EXPECT_TRUE(parse(bytes)->is_keyframe());
  EXPECT_TRUE(std::equal(bytes.begin() + 4, bytes.end(), kKeyframeFifteenBit.begin() + 4));
}

TEST(Vp8Descriptor, RewritesTl0PicIdxOnly) {
  auto bytes = kAllFields;
  ASSERT_TRUE(write_vp8_tl0_pic_idx(bytes, 7));
  const auto descriptor = parse(bytes);
  EXPECT_EQ(descriptor->tl0_pic_idx(), 7);
  EXPECT_EQ(descriptor->picture_id(), 0x7FFE);
  EXPECT_EQ(descriptor->temporal_id(), 2);
  EXPECT_EQ(descriptor->key_index(), 19);
}

TEST(Vp8Descriptor, RewriteRefusesAbsentFieldsAndBrokenDescriptors) {
  auto minimal = kMinimal;
  EXPECT_FALSE(write_vp8_picture_id(minimal, 5));
  EXPECT_FALSE(write_vp8_tl0_pic_idx(minimal, 5));
  EXPECT_EQ(minimal, kMinimal);
  std::array<std::uint8_t, 3> truncated = {0x90, 0x80, 0x95};
  EXPECT_FALSE(write_vp8_picture_id(truncated, 5));
  EXPECT_EQ(truncated, (std::array<std::uint8_t, 3>{0x90, 0x80, 0x95}));
}

// What the video MCU lets reach vp8dec (is_camera_vp8_payload, sfu/payload/camera_limits.hpp).
TEST(Vp8Descriptor, ACameraPayloadIsAnyFrameOfAtMost1080p) {
  EXPECT_TRUE(is_camera_vp8_payload(kKeyframeSevenBit));
  EXPECT_TRUE(is_camera_vp8_payload(kContinuationSevenBit));
  EXPECT_TRUE(is_camera_vp8_payload(kInterSevenBit));
  EXPECT_TRUE(is_camera_vp8_payload(kKeyframeFifteenBit));
  auto full_hd = kKeyframeFifteenBit;
  full_hd[10] = 0x80, full_hd[11] = 0x07;  // width 1920
  full_hd[12] = 0x38, full_hd[13] = 0x04;  // height 1080
  EXPECT_TRUE(is_camera_vp8_payload(full_hd));
}

TEST(Vp8Descriptor, A4kKeyFrameOrACorruptOneIsNotGivenToADecoder) {
  auto uhd = kKeyframeFifteenBit;
  uhd[10] = 0x00, uhd[11] = 0x0F;  // width 3840
  uhd[12] = 0x70, uhd[13] = 0x08;  // height 2160
  EXPECT_FALSE(is_camera_vp8_payload(uhd));
  auto tall = kKeyframeFifteenBit;
  tall[12] = 0x00, tall[13] = 0x08;  // width 640, height 2048
  EXPECT_FALSE(is_camera_vp8_payload(tall));
  auto corrupt = kKeyframeSevenBit;
  corrupt[7] = 0x02;  // P=0 says key frame, but the start code is 9d 02 2a
  EXPECT_FALSE(is_camera_vp8_payload(corrupt));
  EXPECT_FALSE(is_camera_vp8_payload({}));
}

}  // namespace vp8_descriptor_test
}  // namespace chorus::sfu
