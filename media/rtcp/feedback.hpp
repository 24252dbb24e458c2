// Common parts of the RTP/AVPF feedback messages (RFC 4585 §6.1): the RTPFB (205) and PSFB (206)
// FMT values, the sender/media SSRC pair that opens every feedback body, and the exponent /
// mantissa bitrate encoding shared by TMMBR/TMMBN (RFC 5104 §4.2.1.1) and REMB.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "media/rtcp/rtcp_header.hpp"

namespace chorus::media::rtcp {

// RFC 4585 §6.2, RFC 5104 §4.2, draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1.
enum class RtpfbFmt : std::uint8_t { kNack = 1, kTmmbr = 3, kTmmbn = 4, kTransportCc = 15 };
// RFC 4585 §6.3, RFC 5104 §4.3.1, draft-alvestrand-rmcat-remb-03 §2.2 (application layer FB).
enum class PsfbFmt : std::uint8_t { kPli = 1, kFir = 4, kRemb = 15 };

// Header, SSRC of packet sender, SSRC of media source.
inline constexpr std::size_t kFeedbackHeaderSize = kHeaderSize + 8;

struct FeedbackSsrcs {
  std::uint32_t sender_ssrc = 0;
  std::uint32_t media_ssrc = 0;
};

// The FCI of `header` when it is of `type` with `fmt` and its body holds the two SSRCs.
std::optional<std::span<const std::uint8_t>> feedback_fci(const RtcpHeader& header, PacketType type, std::uint8_t fmt);
FeedbackSsrcs feedback_ssrcs(const RtcpHeader& header);  // only after feedback_fci succeeded

// Writes header and both SSRCs of a `packet_size`-octet feedback message; false if it does not fit.
bool write_feedback_header(std::span<std::uint8_t> out, PacketType type, std::uint8_t fmt, std::size_t packet_size,
                           FeedbackSsrcs ssrcs);

// mantissa * 2^exponent, or nullopt when that overflows 64 bits.
std::optional<std::uint64_t> decode_bitrate(std::uint8_t exponent, std::uint32_t mantissa);

struct EncodedBitrate {
  std::uint8_t exponent = 0;
  std::uint32_t mantissa = 0;
};
// The smallest exponent whose mantissa fits `mantissa_bits`; low bits are dropped (rounding down,
// as a bound must never be overstated).
EncodedBitrate encode_bitrate(std::uint64_t bitrate, unsigned mantissa_bits);

}  // namespace chorus::media::rtcp
