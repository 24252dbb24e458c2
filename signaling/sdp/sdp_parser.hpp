// parse_sdp(): text → SessionDescription (RFC 8866 §5, §9 grammar).
//
// Tolerant where RFC 8866 lets a receiver be (unknown line types, attributes, media types,
// protocols and bandwidth types are kept; session-level lines may come in any order; missing
// s= and t= lines are accepted; CRLF or bare LF; trailing blanks ignored), strict where the
// structure matters: v=0 comes first, o= is present once with its six fields, every line is
// "<letter>=<value>", m= lines have a media, a numeric port ≤ 65535, a protocol and formats,
// numbers are numbers, and no control characters. The error names the line and what is wrong
// ("line 6 (m=audio x RTP/AVP 0): port is not a number 0-65535").
// Pure function, no shared state: safe on any thread.
#pragma once

#include <cstddef>
#include <expected>
#include <string>
#include <string_view>

#include "signaling/sdp/session_description.hpp"

namespace chorus::sdp {

// Ingress limits (DESIGN §5: every ingress has a named limit).
inline constexpr std::size_t kMaxSdpBytes = 64 * 1024;
inline constexpr std::size_t kMaxSdpLines = 1024;
inline constexpr std::size_t kMaxMediaSections = 64;

std::expected<SessionDescription, std::string> parse_sdp(std::string_view text);

// The same limits, chosen by the caller.
struct SdpLimits {
  std::size_t max_bytes = kMaxSdpBytes;
  std::size_t max_lines = kMaxSdpLines;
  std::size_t max_media_sections = kMaxMediaSections;
};
// For calls that may bring video: a browser joining a video room offers an audio section and up
// to ten video sections (its camera and nine receive slots), each with its whole codec list,
// about 125 lines apiece (Chrome: VP8, VP9 ×2, AV1, H.264 ×7, each with rtx and five rtcp-fb,
// eleven a=extmap). That is some 1,300 lines in about 45 KiB, past kMaxSdpLines.
inline constexpr SdpLimits kVideoSdpLimits{kMaxSdpBytes, 4096, kMaxMediaSections};

std::expected<SessionDescription, std::string> parse_sdp(std::string_view text, const SdpLimits& limits);

}  // namespace chorus::sdp
