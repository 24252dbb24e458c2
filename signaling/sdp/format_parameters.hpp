// Format parameters (a=fmtp, RFC 8866 §6.15) of the video formats we negotiate: the
// "name=value;name=value" lists of RFC 6184 §8.1 (H.264), RFC 4588 §8.1 (rtx) and RFC 7741 §6.1
// (VP8), the rtx apt= link, and H.264's profile-level-id (RFC 6184 §8.1).
//
// H.264 profile-level-id is three bytes in hex: profile_idc, profile-iop (constraint_set0..5
// flags, two reserved zero bits) and level_idc. RFC 6184 §8.1 Table 5 says which combinations
// mean the same profile: Constrained Baseline is 42 with x1xx0000, 4D with 1xxx0000 or 58 with
// 11xx0000 ("42e01f", "42c01f", "4de01f"); Baseline is 42 with x0xx0000 or 58 with 10xx0000
// ("42001f", "42801f"). Level 1b is level_idc 11 with constraint_set3_flag for those profiles
// (level_idc 9 for the others).
// Pure functions: safe on any thread, no shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "signaling/sdp/rtp_attributes.hpp"

namespace chorus::sdp {

struct FormatParameter {
  std::string_view name;
  std::string_view value;  // "" for a bare name
};
inline constexpr std::size_t kMaxFormatParameters = 32;

// "a=1;b=2" (spaces around ';' and '=' tolerated: room systems write "; "), a trailing ';'
// allowed. Refused: an empty or non-token name, more than kMaxFormatParameters. Views point into
// `text`.
std::expected<std::vector<FormatParameter>, AttributeFault> parse_format_parameters(std::string_view text);

// The value of the first parameter called `name` (case-insensitive: RFC 4855 §3 media type
// parameter names are).
std::optional<std::string_view> format_parameter(std::span<const FormatParameter> parameters, std::string_view name);

// RFC 4588 §8.1: the rtx format's apt=, the payload type it repairs. nullopt when the fmtp
// parameters are malformed or apt is missing or not a payload type.
std::optional<int> rtx_associated_payload_type(std::string_view fmtp);

// RFC 6184 §8.1: without profile-level-id, "the Baseline profile without additional constraints
// at Level 1" is meant (level_idc 10).
inline constexpr std::string_view kDefaultH264ProfileLevelId = "42000a";

struct H264ProfileLevelId {
  std::uint8_t profile_idc = 0x42;
  std::uint8_t profile_iop = 0x00;
  std::uint8_t level_idc = 10;  // level 1
  bool operator==(const H264ProfileLevelId&) const = default;
};

// Exactly six hex digits, either case.
std::expected<H264ProfileLevelId, AttributeFault> parse_h264_profile_level_id(std::string_view text);
// Six lower-case hex digits.
std::string to_string(const H264ProfileLevelId& id);

enum class H264Profile { kConstrainedBaseline, kBaseline, kMain, kExtended, kHigh, kOther };
// RFC 6184 §8.1 Table 5 (High: 64 with 00000000; every other combination is kOther).
H264Profile h264_profile(const H264ProfileLevelId& id);

// The level's place in H.264 Table A-1 order (1, 1b, 1.1, 1.2, 1.3, 2, 2.1, ..., 6.2), so levels
// compare as numbers; nullopt for a level_idc the table does not have.
std::optional<int> h264_level_rank(const H264ProfileLevelId& id);
// `id` with the level at `rank` (a value h264_level_rank returns), writing level 1b the way the
// profile needs; nullopt for a rank out of the table.
std::optional<H264ProfileLevelId> with_h264_level_rank(H264ProfileLevelId id, int rank);

}  // namespace chorus::sdp
