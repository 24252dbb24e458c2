// parse_h264_sps: the few fields of an H.264 sequence parameter set (ITU-T H.264 §7.3.2.1.1)
// the SFU logs and tests want — profile, level, id and the cropped picture size — read straight
// from the NAL unit in an RTP payload, emulation-prevention bytes (§7.4.1: 00 00 03) skipped on
// the fly, without copying the RBSP out.
//
// Every Exp-Golomb value (§9.1) is range-checked against the standard before it is used as a
// loop bound or a factor, and the walk stops at the frame cropping fields: VUI is not read.
// A truncated or out-of-range SPS gives an error, never a guess. No allocation, no throw.
//
// Threading: a pure function.
#pragma once

#include <cstdint>
#include <expected>
#include <span>

#include "sfu/payload/h264_payload.hpp"

namespace chorus::sfu {

struct H264SpsInfo {
  static constexpr std::uint32_t kMaxDimension = 16384;  // pixels; level 6.2 tops out below this

  std::uint8_t profile_idc = 0;
  std::uint8_t constraint_flags = 0;  // constraint_set0..5_flag and the 2 reserved bits, as on the wire
  std::uint8_t level_idc = 0;
  std::uint8_t sps_id = 0;             // 0..31
  std::uint8_t chroma_format_idc = 1;  // 4:2:0 unless a high profile says otherwise
  std::uint32_t width = 0;             // after frame cropping (§7.4.2.1.1, Table 6-1)
  std::uint32_t height = 0;

  bool operator==(const H264SpsInfo&) const = default;
};

// `nal_unit` is a whole SPS NAL unit, its one-byte header included (type 7).
[[nodiscard]] std::expected<H264SpsInfo, H264Error> parse_h264_sps(std::span<const std::uint8_t> nal_unit) noexcept;

}  // namespace chorus::sfu
