#include "signaling/sdp/rtp_attributes.hpp"

#include "signaling/sdp/sdp_text.hpp"

namespace chorus::sdp {
namespace {

using detail::next_token;
using detail::trim;

// RFC 8285 §5 mapentry: 1*5DIGIT. Five digits at most keeps "0000001" style padding out.
constexpr std::size_t kMaxExtmapIdDigits = 5;
// RFC 8830 §2: msid-id and msid-appdata are 1*64token-char.
constexpr std::size_t kMaxMsidPartLength = 64;

std::optional<std::uint32_t> parse_ssrc_id(std::string_view text) {
  return detail::parse_unsigned<std::uint32_t>(text, UINT32_MAX);
}

}  // namespace

std::expected<ExtmapView, AttributeFault> parse_extmap(std::string_view value) {
  std::string_view rest = value;
  std::string_view id_and_direction = next_token(rest);
  ExtmapView out;
  out.uri = next_token(rest);
  if (out.uri.empty()) return std::unexpected("extmap has no extension URI");
  out.attributes = trim(rest);
  const auto slash = id_and_direction.find('/');
  if (slash != std::string_view::npos) {
    // RFC 8285 §5: direction is one of the four RFC 8866 §6.7 names, written in lower case.
    const std::string_view direction = id_and_direction.substr(slash + 1);
    out.direction = direction_from_name(direction);
    if (!out.direction || direction != to_string(*out.direction)) return std::unexpected("extmap direction is unknown");
  }
  const std::string_view digits = id_and_direction.substr(0, slash);
  if (digits.size() > kMaxExtmapIdDigits) return std::unexpected("extmap id is not 1-255");
  const auto id = detail::parse_int(digits, kMaxExtensionId);
  if (!id || *id < 1) return std::unexpected("extmap id is not 1-255");
  out.id = *id;
  return out;
}

std::expected<RtcpFeedbackView, AttributeFault> parse_rtcp_fb(std::string_view value) {
  std::string_view rest = value;
  const std::string_view pt = next_token(rest);
  RtcpFeedbackView out;
  if (pt != "*") {
    // RFC 4585 §4.2: rtcp-fb-pt = "*" / fmt; for RTP, fmt is a payload type 0..127.
    out.payload_type = detail::parse_int(pt, 127);
    if (!out.payload_type) return std::unexpected("rtcp-fb format is neither * nor a payload type");
  }
  out.type = next_token(rest);
  if (out.type.empty()) return std::unexpected("rtcp-fb has no feedback type");
  if (!detail::is_token(out.type)) return std::unexpected("rtcp-fb feedback type is not a token");
  out.parameter = trim(rest);
  return out;
}

std::expected<SsrcAttributeView, AttributeFault> parse_ssrc(std::string_view value) {
  std::string_view rest = value;
  const auto ssrc = parse_ssrc_id(next_token(rest));
  if (!ssrc) return std::unexpected("ssrc id is not a 32-bit number");
  rest = trim(rest);
  if (rest.empty()) return std::unexpected("ssrc has no attribute");
  SsrcAttributeView out;
  out.ssrc = *ssrc;
  // RFC 5576 §4.1: the attribute is an SDP attribute (att-field[":" att-value]).
  const auto colon = rest.find(':');
  out.attribute = rest.substr(0, colon);
  if (!detail::is_token(out.attribute)) return std::unexpected("ssrc attribute name is not a token");
  if (colon != std::string_view::npos) out.value = rest.substr(colon + 1);
  return out;
}

std::expected<SsrcGroup, AttributeFault> parse_ssrc_group(std::string_view value) {
  std::string_view rest = value;
  const std::string_view semantics = next_token(rest);
  if (!detail::is_token(semantics)) return std::unexpected("ssrc-group has no semantics");
  SsrcGroup group;
  group.semantics = std::string(semantics);
  for (auto token = next_token(rest); !token.empty(); token = next_token(rest)) {
    if (group.ssrcs.size() == kMaxSsrcsPerGroup) return std::unexpected("ssrc-group has too many SSRCs");
    const auto ssrc = parse_ssrc_id(token);
    if (!ssrc) return std::unexpected("ssrc-group member is not a 32-bit number");
    group.ssrcs.push_back(*ssrc);
  }
  if (group.ssrcs.empty()) return std::unexpected("ssrc-group names no SSRC");
  return group;
}

std::expected<MsidView, AttributeFault> parse_msid(std::string_view value) {
  std::string_view rest = value;
  MsidView out;
  out.stream_id = next_token(rest);
  out.track_id = next_token(rest);
  if (out.stream_id.empty()) return std::unexpected("msid has no id");
  if (!next_token(rest).empty()) return std::unexpected("msid has more than two fields");
  if (out.stream_id.size() > kMaxMsidPartLength || out.track_id.size() > kMaxMsidPartLength) {
    return std::unexpected("msid field longer than 64 characters");
  }
  if (!detail::is_token(out.stream_id) || (!out.track_id.empty() && !detail::is_token(out.track_id))) {
    return std::unexpected("msid field is not a token");
  }
  return out;
}

std::expected<std::vector<std::string_view>, AttributeFault> parse_content(std::string_view value) {
  std::vector<std::string_view> values;
  std::string_view rest = trim(value);
  if (rest.empty()) return std::unexpected("content has no value");
  if (rest.back() == ',') return std::unexpected("content value is not a token");
  while (true) {
    const std::string_view item = detail::next_field(rest, ',');
    if (!detail::is_token(item)) return std::unexpected("content value is not a token");
    if (values.size() == kMaxContentValues) return std::unexpected("content has too many values");
    values.push_back(item);
    if (rest.empty()) break;
  }
  return values;
}

std::uint8_t one_byte_extension_id(std::span<const HeaderExtension> extensions, std::string_view uri) {
  for (const auto& extension : extensions)
    if (extension.uri == uri && extension.id >= 1 && extension.id <= kMaxOneByteExtensionId)
      return static_cast<std::uint8_t>(extension.id);
  return 0;
}

}  // namespace chorus::sdp
