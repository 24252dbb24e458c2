#include "signaling/sdp/format_parameters.hpp"

#include <array>

#include "signaling/sdp/sdp_text.hpp"

namespace chorus::sdp {
namespace {

using detail::trim;

constexpr std::uint8_t kProfileBaseline = 0x42;  // profile_idc 66
constexpr std::uint8_t kProfileMain = 0x4d;      // 77
constexpr std::uint8_t kProfileExtended = 0x58;  // 88
constexpr std::uint8_t kProfileHigh = 0x64;      // 100
constexpr std::uint8_t kConstraintSet3 = 0x10;   // profile-iop bit 4: level 1b with level_idc 11

// RFC 6184 §8.1 Table 5: profile-iop patterns, 'x' bits masked out.
struct ProfilePattern {
  std::uint8_t profile_idc;
  std::uint8_t mask;
  std::uint8_t value;
  H264Profile profile;
};
constexpr std::array<ProfilePattern, 8> kProfilePatterns{{
    {kProfileBaseline, 0x4f, 0x40, H264Profile::kConstrainedBaseline},  // x1xx0000
    {kProfileMain, 0x8f, 0x80, H264Profile::kConstrainedBaseline},      // 1xxx0000
    {kProfileExtended, 0xcf, 0xc0, H264Profile::kConstrainedBaseline},  // 11xx0000
    {kProfileBaseline, 0x4f, 0x00, H264Profile::kBaseline},             // x0xx0000
    {kProfileExtended, 0xcf, 0x80, H264Profile::kBaseline},             // 10xx0000
    {kProfileMain, 0xaf, 0x00, H264Profile::kMain},                     // 0x0x0000
    {kProfileExtended, 0xcf, 0x00, H264Profile::kExtended},             // 00xx0000
    {kProfileHigh, 0xff, 0x00, H264Profile::kHigh},                     // 00000000
}};

// H.264 Table A-1 in capability order; kLevel1b marks level 1b's place.
constexpr std::uint8_t kLevel1b = 0;
constexpr std::array<std::uint8_t, 20> kLevels{10, kLevel1b, 11, 12, 13, 20, 21, 22, 30, 31,
                                               32, 40,       41, 42, 50, 51, 52, 60, 61, 62};
constexpr int kLevel1bRank = 1;
constexpr std::uint8_t kLevel1bIdcHigh = 9;  // level 1b in the High profiles' form

bool writes_1b_with_constraint_set3(std::uint8_t profile_idc) {
  return profile_idc == kProfileBaseline || profile_idc == kProfileMain || profile_idc == kProfileExtended;
}

std::optional<std::uint8_t> hex_byte(std::string_view two) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    const char lower = detail::ascii_lower(c);
    if (lower >= 'a' && lower <= 'f') return lower - 'a' + 10;
    return -1;
  };
  const int high = nibble(two[0]);
  const int low = nibble(two[1]);
  if (high < 0 || low < 0) return std::nullopt;
  return static_cast<std::uint8_t>(high * 16 + low);
}

}  // namespace

std::expected<std::vector<FormatParameter>, AttributeFault> parse_format_parameters(std::string_view text) {
  std::vector<FormatParameter> out;
  std::string_view rest = trim(text);
  while (!rest.empty()) {
    const std::string_view item = trim(detail::next_field(rest, ';'));
    rest = trim(rest);
    if (item.empty()) {
      if (rest.empty()) break;  // "a=1;" : a trailing separator
      return std::unexpected("fmtp has an empty parameter");
    }
    const auto equals = item.find('=');
    FormatParameter p{trim(item.substr(0, equals)), {}};
    if (equals != std::string_view::npos) p.value = trim(item.substr(equals + 1));
    if (!detail::is_token(p.name)) return std::unexpected("fmtp parameter name is not a token");
    if (out.size() == kMaxFormatParameters) return std::unexpected("fmtp has too many parameters");
    out.push_back(p);
  }
  return out;
}

std::optional<std::string_view> format_parameter(std::span<const FormatParameter> parameters, std::string_view name) {
  for (const auto& p : parameters) {
    if (detail::iequals(p.name, name)) return p.value;
  }
  return std::nullopt;
}

std::optional<int> rtx_associated_payload_type(std::string_view fmtp) {
  const auto parameters = parse_format_parameters(fmtp);
  if (!parameters) return std::nullopt;
  const auto apt = format_parameter(*parameters, "apt");
  if (!apt) return std::nullopt;
  return detail::parse_int(*apt, 127);
}

std::expected<H264ProfileLevelId, AttributeFault> parse_h264_profile_level_id(std::string_view text) {
  if (text.size() != 6) return std::unexpected("profile-level-id is not six hex digits");
  const auto profile_idc = hex_byte(text.substr(0, 2));
  const auto profile_iop = hex_byte(text.substr(2, 2));
  const auto level_idc = hex_byte(text.substr(4, 2));
  if (!profile_idc || !profile_iop || !level_idc) return std::unexpected("profile-level-id is not six hex digits");
  return H264ProfileLevelId{*profile_idc, *profile_iop, *level_idc};
}

std::string to_string(const H264ProfileLevelId& id) {
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  for (std::uint8_t b : {id.profile_idc, id.profile_iop, id.level_idc}) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0x0f]);
  }
  return out;
}

H264Profile h264_profile(const H264ProfileLevelId& id) {
  for (const auto& p : kProfilePatterns) {
    if (p.profile_idc == id.profile_idc && (id.profile_iop & p.mask) == p.value) return p.profile;
  }
  return H264Profile::kOther;
}

std::optional<int> h264_level_rank(const H264ProfileLevelId& id) {
  const bool set3_form = writes_1b_with_constraint_set3(id.profile_idc);
  if ((set3_form && id.level_idc == 11 && (id.profile_iop & kConstraintSet3) != 0) || id.level_idc == kLevel1bIdcHigh) {
    return kLevel1bRank;
  }
  for (std::size_t i = 0; i < kLevels.size(); ++i) {
    if (kLevels[i] != kLevel1b && kLevels[i] == id.level_idc) return static_cast<int>(i);
  }
  return std::nullopt;
}

std::optional<H264ProfileLevelId> with_h264_level_rank(H264ProfileLevelId id, int rank) {
  if (rank < 0 || rank >= static_cast<int>(kLevels.size())) return std::nullopt;
  const bool set3_form = writes_1b_with_constraint_set3(id.profile_idc);
  // For these profiles constraint_set3_flag says "1b" next to level_idc 11, nothing else.
  if (set3_form) id.profile_iop = static_cast<std::uint8_t>(id.profile_iop & ~kConstraintSet3);
  if (rank == kLevel1bRank) {
    id.level_idc = set3_form ? 11 : kLevel1bIdcHigh;
    if (set3_form) id.profile_iop = static_cast<std::uint8_t>(id.profile_iop | kConstraintSet3);
  } else {
    id.level_idc = kLevels[static_cast<std::size_t>(rank)];
  }
  return id;
}

}  // namespace chorus::sdp
