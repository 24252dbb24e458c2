// Parsers for the RTP-level media attributes video negotiation reads: a=extmap (RFC 8285 §5),
// a=rtcp-fb (RFC 4585 §4.2), a=ssrc and a=ssrc-group (RFC 5576 §4.1, §4.2), a=msid (RFC 8830 §2)
// and a=content (RFC 4796 §4), plus the header extension URIs we negotiate.
//
// Each parser takes the attribute value (the text after "a=<name>:") as received from a peer and
// returns what it means, or a short static reason naming what is wrong ("extmap id is not 1-255").
// Views point into the value: keep the attribute alive while using them. Parsers that must build
// a list bound it (kMaxSsrcsPerGroup, kMaxContentValues), so bad input costs bounded work.
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

#include "signaling/sdp/session_description.hpp"

namespace chorus::sdp {

// Why an attribute value was refused: a static string, safe to keep and to log.
using AttributeFault = std::string_view;

// RFC 8285 §5 extension names (URIs) we negotiate. RFC 8843 §15.1 (mid), RFC 8852 §3.1 and §3.2
// (rtp-stream-id, repaired-rtp-stream-id), RFC 6464 §4 (ssrc-audio-level); abs-send-time and
// transport-wide-cc are the WebRTC project's (webrtc.org, draft-holmer-rmcat-transport-wide-cc).
inline constexpr std::string_view kMidExtensionUri = "urn:ietf:params:rtp-hdrext:sdes:mid";
inline constexpr std::string_view kRtpStreamIdUri = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
inline constexpr std::string_view kRepairedRtpStreamIdUri = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
inline constexpr std::string_view kAudioLevelUri = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
inline constexpr std::string_view kAbsSendTimeUri = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
inline constexpr std::string_view kTransportWideCcUri =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";

// RFC 8285 §4.2: one-byte elements carry ids 1..14 (15 is reserved); §4.3: two-byte ids 1..255.
inline constexpr int kMaxOneByteExtensionId = 14;
inline constexpr int kMaxExtensionId = 255;

// RFC 8285 §5: a=extmap:<value>["/"<direction>] <URI> [<extensionattributes>], value 1*5DIGIT.
struct ExtmapView {
  int id = 0;                          // 1..kMaxExtensionId
  std::optional<Direction> direction;  // absent: the section's direction applies
  std::string_view uri;
  std::string_view attributes;  // the extension attributes as text, "" when none
};
std::expected<ExtmapView, AttributeFault> parse_extmap(std::string_view value);

// A header extension as answered (RFC 8285 §6: the answer keeps the offer's id for each URI).
struct HeaderExtension {
  std::string uri;
  int id = 0;
  bool operator==(const HeaderExtension&) const = default;
};

// The id `extensions` answer `uri` under, when the RFC 8285 §4.2 one-byte form can carry it (1..14);
// 0 otherwise. What media reads per packet: two-byte ids (§4.3) are not written by us.
[[nodiscard]] std::uint8_t one_byte_extension_id(std::span<const HeaderExtension> extensions, std::string_view uri);

// RFC 4585 §4.2: a=rtcp-fb:<rtcp-fb-pt> SP <rtcp-fb-val>; rtcp-fb-pt is "*" or a payload type.
struct RtcpFeedbackView {
  std::optional<int> payload_type;  // nullopt for "*": every format of the section
  std::string_view type;            // "nack", "ccm", "goog-remb", "transport-cc", "trr-int", "ack", ...
  std::string_view parameter;       // "pli", "fir", "100" (trr-int)...; the rest of the value, "" when none
};
std::expected<RtcpFeedbackView, AttributeFault> parse_rtcp_fb(std::string_view value);

// RFC 5576 §4.1: a=ssrc:<ssrc-id> <attribute>[:<value>], ssrc-id an integer 0..2^32-1.
struct SsrcAttributeView {
  std::uint32_t ssrc = 0;
  std::string_view attribute;             // "cname", "msid", "label", ...
  std::optional<std::string_view> value;  // after the ':', when there is one
};
std::expected<SsrcAttributeView, AttributeFault> parse_ssrc(std::string_view value);

// RFC 5576 §4.2: a=ssrc-group:<semantics> *(SP <ssrc-id>). Semantics: FID (RFC 5888 / RFC 4588
// retransmission), SIM (simulcast), FEC-FR (RFC 5956)... kept as written.
struct SsrcGroup {
  std::string semantics;
  std::vector<std::uint32_t> ssrcs;
  bool operator==(const SsrcGroup&) const = default;
};
inline constexpr std::size_t kMaxSsrcsPerGroup = 16;
// Refused: no semantics, no SSRC, an SSRC that is not a 32-bit number, more than kMaxSsrcsPerGroup.
std::expected<SsrcGroup, AttributeFault> parse_ssrc_group(std::string_view value);

// RFC 8830 §2: a=msid:<msid-id> [<msid-appdata>], each 1*64token-char.
struct MsidView {
  std::string_view stream_id;  // "-" when the track has no stream (JSEP §5.2.1)
  std::string_view track_id;   // "" when absent
};
std::expected<MsidView, AttributeFault> parse_msid(std::string_view value);

// RFC 4796 §4: a=content:<mcnt-tag-value> *("," <mcnt-tag-value>), values "slides", "speaker",
// "sl", "main", "alt" or another token. Returns the values in written order.
inline constexpr std::size_t kMaxContentValues = 8;
std::expected<std::vector<std::string_view>, AttributeFault> parse_content(std::string_view value);

}  // namespace chorus::sdp
