// H264Payload and parse_h264_sps: RFC 6184 payloads captured from GStreamer (x264enc !
// rtph264pay): a STAP-A of SPS + PPS + IDR, FU-A start/middle/end fragments of an IDR slice and
// of a non-IDR one, single NAL units; the SPS picture sizes of three real encodes (one cropped,
// one High profile); hostile sizes, nesting and interleaved-mode packets refused.
#include "sfu/payload/h264_payload.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "sfu/payload/h264_sps.hpp"

namespace chorus::sfu {
namespace h264_payload_test {

// SPS, Constrained Baseline level 2.1, 320x180 (cropped from 20x12 macroblocks). The 00 00 03
// sequences are emulation prevention (H.264 §7.4.1).
constexpr std::array<std::uint8_t, 29> kSps320x180 = {
    0x67,                                      // F=0 NRI=3 type 7 (SPS)
    0x42, 0xC0, 0x15,                          // profile_idc 66, constraint_set0/1, level_idc 21
    0xD9, 0x01, 0x41, 0x9F, 0x9F, 0x01, 0x6A,  // ue/flag fields: ..., frame_cropping
    0x0C, 0x0C, 0x0D, 0x4A, 0x00, 0x00, 0x03,  // ... VUI, with an emulation prevention byte
    0x00, 0x02, 0x00, 0x00, 0x03, 0x00, 0x79,  //
    0x1E, 0x2C, 0x5C, 0x90,                    //
};
// SPS, Constrained Baseline, 176x144 (11x9 macroblocks, no cropping).
constexpr std::array<std::uint8_t, 28> kSps176x144 = {
    0x67, 0x42, 0xC0, 0x15, 0xD9, 0x02, 0xC4, 0xEC, 0x05, 0xA8, 0x30, 0x30, 0x35, 0x28,
    0x00, 0x00, 0x03, 0x00, 0x08, 0x00, 0x00, 0x03, 0x01, 0xE4, 0x78, 0xB1, 0x72, 0x40,
};
// SPS, High profile level 3.1, 1280x720: the chroma_format_idc / bit depth / scaling fields.
constexpr std::array<std::uint8_t, 29> kSpsHigh1280x720 = {
    0x67, 0x64, 0x00, 0x1F, 0xAC, 0xB2, 0x00, 0xA0, 0x0B, 0x76, 0x02, 0xD4, 0x04, 0x04, 0x05,
    0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x3C, 0x8F, 0x18, 0x32, 0x48,
};

// STAP-A (§5.7.1) of the 320x180 stream's SPS, its PPS and the first bytes of its IDR slice
// (the encoder's STAP-A also held an AUD and a 700-byte SEI, left out; the IDR slice is cut to 8
// bytes and its size field says so).
constexpr std::array<std::uint8_t, 1 + 2 + 29 + 2 + 4 + 2 + 8> kStapASpsPpsIdr = {
    0x78,                                            // F=0 NRI=3 type 24 (STAP-A)
    0x00, 0x1D,                                      // NALU size 29
    0x67, 0x42, 0xC0, 0x15, 0xD9, 0x01, 0x41,        // SPS (kSps320x180)
    0x9F, 0x9F, 0x01, 0x6A, 0x0C, 0x0C, 0x0D,        //
    0x4A, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00,        //
    0x00, 0x03, 0x00, 0x79, 0x1E, 0x2C, 0x5C,        //
    0x90,                                            //
    0x00, 0x04,                                      // NALU size 4
    0x68, 0xCB, 0x8C, 0xB2,                          // PPS: NRI=3 type 8
    0x00, 0x08,                                      // NALU size 8
    0x65, 0x88, 0x84, 0x06, 0xAF, 0xFF, 0xFF, 0xC3,  // IDR slice: NRI=3 type 5, slice header
};
// STAP-A of an access unit delimiter and a PPS only: no keyframe.
constexpr std::array<std::uint8_t, 11> kStapAAudPps = {
    0x78,                                // STAP-A
    0x00, 0x02, 0x09, 0x10,              // AUD (type 9), primary_pic_type
    0x00, 0x04, 0x68, 0xCB, 0x8C, 0xB2,  // PPS
};
// FU-A (§5.8) fragments of the 176x144 stream's IDR slice, cut after a few bytes.
constexpr std::array<std::uint8_t, 6> kFuAIdrStart = {
    0x7C,                    // FU indicator: F=0 NRI=3 type 28 (FU-A)
    0x85,                    // FU header: S=1 E=0 R=0 type 5 (IDR)
    0x88, 0x84, 0x08, 0xBC,  // slice data
};
constexpr std::array<std::uint8_t, 6> kFuAIdrMiddle = {0x7C, 0x05 /* S=0 E=0 type 5 */, 0xA6, 0x8A, 0xA2, 0x47};
constexpr std::array<std::uint8_t, 6> kFuAIdrEnd = {0x7C, 0x45 /* S=0 E=1 type 5 */, 0xD0, 0x3D, 0xB3, 0xF6};
// The next picture's first fragment: a non-IDR slice (type 1), NRI=2.
constexpr std::array<std::uint8_t, 6> kFuANonIdrStart = {0x5C, 0x81 /* S=1 type 1 */, 0x88, 0x88, 0x4B, 0xC2};
// A single NAL unit packet (§5.6): the access unit delimiter the encoder sent alone.
constexpr std::array<std::uint8_t, 2> kSingleAud = {0x09 /* NRI=0 type 9 */, 0x10};

template <std::size_t N>
std::expected<H264Payload, H264Error> parse(const std::array<std::uint8_t, N>& bytes) {
  return H264Payload::parse(bytes);
}

template <std::size_t N>
std::span<const std::uint8_t> view(const std::array<std::uint8_t, N>& bytes, std::size_t from, std::size_t size) {
  return std::span<const std::uint8_t>{bytes}.subspan(from, size);
}

TEST(H264Payload, WalksStapAOfSpsPpsIdr) {
  const auto payload = parse(kStapASpsPpsIdr);
  ASSERT_TRUE(payload);
  EXPECT_EQ(payload->packetization(), H264Packetization::kStapA);
  EXPECT_EQ(payload->nal_type(), H264NalType::kStapA);
  EXPECT_EQ(payload->nal_ref_idc(), 3);
  const auto units = payload->nal_units();
  ASSERT_EQ(units.size(), 3u);
  std::vector<std::span<const std::uint8_t>> seen(units.begin(), units.end());
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].data(), kStapASpsPpsIdr.data() + 3);
  EXPECT_EQ(seen[0].size(), 29u);
  EXPECT_TRUE(std::ranges::equal(seen[0], kSps320x180));
  EXPECT_EQ(h264_nal_type(seen[1][0]), H264NalType::kPps);
  EXPECT_EQ(seen[1].size(), 4u);
  EXPECT_EQ(h264_nal_type(seen[2][0]), H264NalType::kIdr);
  EXPECT_EQ(seen[2].size(), 8u);
  EXPECT_TRUE(payload->is_keyframe());
  ASSERT_TRUE(payload->find_sps());
  EXPECT_EQ(payload->find_sps()->data(), kStapASpsPpsIdr.data() + 3);
  EXPECT_FALSE(payload->fragment_start());
}

TEST(H264Payload, StapAWithoutIdrOrSpsIsNotAKeyframe) {
  const auto payload = parse(kStapAAudPps);
  ASSERT_TRUE(payload);
  EXPECT_EQ(payload->nal_units().size(), 2u);
  EXPECT_FALSE(payload->is_keyframe());
  EXPECT_FALSE(payload->find_sps());
}

TEST(H264Payload, ReadsFuAStartMiddleAndEnd) {
  const auto start = parse(kFuAIdrStart);
  ASSERT_TRUE(start);
  EXPECT_EQ(start->packetization(), H264Packetization::kFuA);
  EXPECT_EQ(start->nal_type(), H264NalType::kIdr);
  EXPECT_TRUE(start->fragment_start());
  EXPECT_FALSE(start->fragment_end());
  EXPECT_TRUE(start->nal_units().empty());
  EXPECT_TRUE(start->is_keyframe());

  const auto middle = parse(kFuAIdrMiddle);
  ASSERT_TRUE(middle);
  EXPECT_EQ(middle->nal_type(), H264NalType::kIdr);
  EXPECT_FALSE(middle->fragment_start());
  EXPECT_FALSE(middle->fragment_end());
  EXPECT_FALSE(middle->is_keyframe());  // only the start of an IDR picture is a switch point

  const auto end = parse(kFuAIdrEnd);
  ASSERT_TRUE(end);
  EXPECT_TRUE(end->fragment_end());
  EXPECT_FALSE(end->is_keyframe());

  const auto non_idr = parse(kFuANonIdrStart);
  ASSERT_TRUE(non_idr);
  EXPECT_EQ(non_idr->nal_type(), H264NalType::kSlice);
  EXPECT_EQ(non_idr->nal_ref_idc(), 2);
  EXPECT_TRUE(non_idr->fragment_start());
  EXPECT_FALSE(non_idr->is_keyframe());
}

TEST(H264Payload, ReadsSingleNalUnits) {
  const auto aud = parse(kSingleAud);
  ASSERT_TRUE(aud);
  EXPECT_EQ(aud->packetization(), H264Packetization::kSingleNalUnit);
  EXPECT_EQ(aud->nal_type(), H264NalType::kAud);
  ASSERT_EQ(aud->nal_units().size(), 1u);
  EXPECT_EQ((*aud->nal_units().begin()).size(), 2u);
  EXPECT_FALSE(aud->is_keyframe());

  const auto sps = parse(kSps176x144);
  ASSERT_TRUE(sps);
  EXPECT_EQ(sps->nal_type(), H264NalType::kSps);
  EXPECT_TRUE(sps->is_keyframe());
  EXPECT_EQ(sps->find_sps()->size(), kSps176x144.size());

  constexpr std::array<std::uint8_t, 3> kIdr = {0x65, 0x88, 0x84};
  EXPECT_TRUE(parse(kIdr)->is_keyframe());
}

TEST(H264Payload, RefusesTruncatedAndEmptyAggregates) {
  EXPECT_EQ(H264Payload::parse({}).error(), H264Error::kEmpty);
  // Every prefix of the STAP-A that cuts a size field or a unit.
  for (std::size_t size = 1; size < kStapASpsPpsIdr.size(); ++size) {
    const bool on_boundary = size == 1 + 2 + 29 || size == 1 + 2 + 29 + 2 + 4;
    const auto result = H264Payload::parse(std::span{kStapASpsPpsIdr}.first(size));
    if (on_boundary) {
      EXPECT_TRUE(result) << size;
    } else {
      ASSERT_FALSE(result) << size;
      EXPECT_EQ(result.error(), size == 1 ? H264Error::kEmptyAggregate : H264Error::kTruncatedAggregate) << size;
    }
  }
  constexpr std::array<std::uint8_t, 5> kZeroSizeUnit = {0x78, 0x00, 0x00, 0x00, 0x01};
  EXPECT_EQ(parse(kZeroSizeUnit).error(), H264Error::kEmptyAggregate);
  constexpr std::array<std::uint8_t, 5> kHugeSize = {0x78, 0xFF, 0xFF, 0x65, 0x88};
  EXPECT_EQ(parse(kHugeSize).error(), H264Error::kTruncatedAggregate);
}

TEST(H264Payload, RefusesNestingInterleavedModeAndUndefinedTypes) {
  constexpr std::array<std::uint8_t, 6> kStapInStap = {0x78, 0x00, 0x03, 0x78, 0x00, 0x00};
  EXPECT_EQ(parse(kStapInStap).error(), H264Error::kNestedPacketization);
  constexpr std::array<std::uint8_t, 5> kFuInStap = {0x78, 0x00, 0x02, 0x7C, 0x85};
  EXPECT_EQ(parse(kFuInStap).error(), H264Error::kNestedPacketization);
  constexpr std::array<std::uint8_t, 3> kStapInFu = {0x7C, 0x98 /* S=1 type 24 */, 0x00};
  EXPECT_EQ(parse(kStapInFu).error(), H264Error::kNestedPacketization);
  constexpr std::array<std::uint8_t, 3> kStartAndEnd = {0x7C, 0xC5, 0x00};
  EXPECT_EQ(parse(kStartAndEnd).error(), H264Error::kFragmentStartAndEnd);
  constexpr std::array<std::uint8_t, 1> kFuWithoutHeader = {0x7C};
  EXPECT_EQ(parse(kFuWithoutHeader).error(), H264Error::kTruncatedFragment);
  for (const std::uint8_t type : {25, 26, 27, 29}) {
    const std::array<std::uint8_t, 4> packet = {static_cast<std::uint8_t>(0x60 | type), 0x00, 0x02, 0x65};
    EXPECT_EQ(parse(packet).error(), H264Error::kInterleavedPacketization) << int{type};
  }
  for (const std::uint8_t type : {0, 30, 31}) {
    const std::array<std::uint8_t, 2> packet = {static_cast<std::uint8_t>(0x60 | type), 0x00};
    EXPECT_EQ(parse(packet).error(), H264Error::kUndefinedType) << int{type};
  }
  constexpr std::array<std::uint8_t, 4> kUndefinedInStap = {0x78, 0x00, 0x01, 0x1F};
  EXPECT_EQ(parse(kUndefinedInStap).error(), H264Error::kUndefinedType);
  EXPECT_FALSE(to_string(H264Error::kNestedPacketization).empty());
}

TEST(H264Sps, ReadsCroppedBaselinePictureSize) {
  const auto sps = parse_h264_sps(kSps320x180);
  ASSERT_TRUE(sps) << to_string(sps.error());
  EXPECT_EQ(sps->profile_idc, 66);
  EXPECT_EQ(sps->constraint_flags, 0xC0);
  EXPECT_EQ(sps->level_idc, 21);
  EXPECT_EQ(sps->sps_id, 0);
  EXPECT_EQ(sps->chroma_format_idc, 1);
  EXPECT_EQ(sps->width, 320u);
  EXPECT_EQ(sps->height, 180u);
}

TEST(H264Sps, ReadsUncroppedPictureSize) {
  const auto sps = parse_h264_sps(kSps176x144);
  ASSERT_TRUE(sps) << to_string(sps.error());
  EXPECT_EQ(sps->width, 176u);
  EXPECT_EQ(sps->height, 144u);
}

TEST(H264Sps, ReadsHighProfileChromaFields) {
  const auto sps = parse_h264_sps(kSpsHigh1280x720);
  ASSERT_TRUE(sps) << to_string(sps.error());
  EXPECT_EQ(sps->profile_idc, 100);
  EXPECT_EQ(sps->level_idc, 31);
  EXPECT_EQ(sps->chroma_format_idc, 1);
  EXPECT_EQ(sps->width, 1280u);
  EXPECT_EQ(sps->height, 720u);
}

TEST(H264Sps, ReadsSpsFoundInStapA) {
  const auto payload = parse(kStapASpsPpsIdr);
  ASSERT_TRUE(payload && payload->find_sps());
  const auto sps = parse_h264_sps(*payload->find_sps());
  ASSERT_TRUE(sps);
  EXPECT_EQ(sps->width, 320u);
}

TEST(H264Sps, RefusesTruncatedSps) {
  EXPECT_EQ(parse_h264_sps({}).error(), H264Error::kNotSps);
  EXPECT_EQ(parse_h264_sps(view(kStapASpsPpsIdr, 34, 4)).error(), H264Error::kNotSps);  // the PPS
  // Up to its cropping fields the 320x180 SPS needs its first 9 bytes (VUI follows, unread).
  for (std::size_t size = 1; size <= 8; ++size) {
    const auto result = parse_h264_sps(std::span{kSps320x180}.first(size));
    ASSERT_FALSE(result) << size;
    EXPECT_EQ(result.error(), H264Error::kTruncatedSps) << size;
  }
  EXPECT_EQ(parse_h264_sps(std::span{kSps320x180}.first(9)), parse_h264_sps(kSps320x180));
}

TEST(H264Sps, RefusesOutOfRangeFields) {
  // seq_parameter_set_id ue(v) = 32 (00000100001): above 31.
  constexpr std::array<std::uint8_t, 7> kSpsId32 = {0x67, 0x42, 0x00, 0x1E, 0x04, 0x20, 0xFF};
  EXPECT_EQ(parse_h264_sps(kSpsId32).error(), H264Error::kInvalidSps);
  // An Exp-Golomb code with 32 leading zeros cannot be a 32-bit value.
  constexpr std::array<std::uint8_t, 9> kEndlessZeros = {0x67, 0x42, 0x00, 0x1E, 0x00, 0x00, 0x00, 0x00, 0x80};
  EXPECT_EQ(parse_h264_sps(kEndlessZeros).error(), H264Error::kInvalidSps);
  // High profile with chroma_format_idc 4 (ue 00101).
  constexpr std::array<std::uint8_t, 7> kChroma4 = {
      0x67, 0x64, 0x00, 0x1F, 0x94 /* sps_id ue 1 = 0, chroma ue 00101 = 4 */, 0x00, 0xFF};
  EXPECT_EQ(parse_h264_sps(kChroma4).error(), H264Error::kInvalidSps);
}

// What the video MCU lets reach rtph264depay (is_camera_h264_payload): a camera's NAL units in any
// packetization, nothing else — the input fuzz/video_decode_fuzz found crashing GStreamer 1.22's
// depayloader began with an auxiliary slice (type 19) and an FU-A of SEI with garbage.
TEST(H264Payload, ACameraPayloadIsWhatAnEncoderMakes) {
  EXPECT_TRUE(is_camera_h264_payload(kStapASpsPpsIdr));
  EXPECT_TRUE(is_camera_h264_payload(kStapAAudPps));
  EXPECT_TRUE(is_camera_h264_payload(kFuAIdrStart));
  EXPECT_TRUE(is_camera_h264_payload(kFuAIdrMiddle));
  EXPECT_TRUE(is_camera_h264_payload(kFuANonIdrStart));
  EXPECT_TRUE(is_camera_h264_payload(kSpsHigh1280x720));
  EXPECT_TRUE(is_camera_h264_payload(kSingleAud));
  EXPECT_TRUE(is_camera_h264_payload(kSps320x180));
}

TEST(H264Payload, OtherNalUnitsAndBrokenAggregatesAreNotGivenToADecoder) {
  const std::array<std::uint8_t, 7> auxiliary_slice = {0x33 /* type 19 */, 0xa2, 0xed, 0x00, 0xe0, 0x49, 0xb2};
  EXPECT_FALSE(is_camera_h264_payload(auxiliary_slice));
  const std::array<std::uint8_t, 4> extension_slice = {0x74 /* type 20 */, 0x01, 0x02, 0x03};
  EXPECT_FALSE(is_camera_h264_payload(extension_slice));
  const std::array<std::uint8_t, 4> fu_a_of_stap_a = {0x7C, 0x98 /* S=1 type 24 */, 0x00, 0x01};
  EXPECT_FALSE(is_camera_h264_payload(fu_a_of_stap_a));
  // A STAP-A whose second unit is reserved type 23.
  const std::array<std::uint8_t, 9> stap_a_reserved = {0x18, 0x00, 0x02, 0x09, 0x10, 0x00, 0x02, 0x17, 0x00};
  EXPECT_FALSE(is_camera_h264_payload(stap_a_reserved));
  const std::array<std::uint8_t, 5> stap_a_overrun = {0x18, 0x00, 0x09, 0x09, 0x10};  // size beyond the payload
  EXPECT_FALSE(is_camera_h264_payload(stap_a_overrun));
  EXPECT_FALSE(is_camera_h264_payload({}));
  // An SPS that does not parse (cut short) is not a camera's.
  EXPECT_FALSE(is_camera_h264_payload(std::span<const std::uint8_t>(kSps320x180).first(6)));
}

}  // namespace h264_payload_test
}  // namespace chorus::sfu
