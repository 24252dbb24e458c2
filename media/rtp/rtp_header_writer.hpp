// write_rtp_header: serialises an RTP fixed header (RFC 3550 §5.1), its CSRC list and an RFC 8285
// one-byte extension block into a caller's buffer, for packets this server originates (mixer
// output, probing). The caller writes the payload right after the returned size.
//
// Nothing is allocated; fields that cannot be encoded and buffers that are too small give nullopt
// and leave the buffer's contents unspecified. Threading: a pure function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace chorus::media {

// RFC 8285 §4.2: id 1..14, 1..16 data bytes.
struct OneByteExtensionElement {
  std::uint8_t id = 0;
  std::span<const std::uint8_t> data;
};

struct RtpHeaderFields {
  bool marker = false;
  std::uint8_t payload_type = 0;  // 0..127
  std::uint16_t sequence_number = 0;
  std::uint32_t timestamp = 0;
  std::uint32_t ssrc = 0;
  std::span<const std::uint32_t> csrcs;                 // at most 15 (RFC 3550 §5.1 CC is 4 bits)
  std::span<const OneByteExtensionElement> extensions;  // none: no extension block, X bit clear
};

inline constexpr std::size_t kMaxCsrcCount = 15;
inline constexpr std::uint8_t kMaxOneByteExtensionId = 14;
inline constexpr std::size_t kMaxOneByteExtensionDataSize = 16;

// The header size `fields` encode to, or nullopt if they cannot be encoded: payload type above
// 127, more than 15 CSRCs, an element id outside 1..14 or repeated, or data of 0 or over 16 bytes.
[[nodiscard]] std::optional<std::size_t> rtp_header_size(const RtpHeaderFields& fields) noexcept;

// Writes the header at the start of `out`; returns its size, or nullopt when the fields cannot be
// encoded or `out` is too small. The extension block is zero-padded to a 32-bit boundary.
[[nodiscard]] std::optional<std::size_t> write_rtp_header(std::span<std::uint8_t> out,
                                                          const RtpHeaderFields& fields) noexcept;

}  // namespace chorus::media
