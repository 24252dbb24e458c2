// RTX, the RTP retransmission payload format (RFC 4588), in the session-multiplexed form WebRTC
// uses (§4, §8.2: a separate SSRC and payload type on the same session).
//
//   RTX packet = the original's RTP header with the RTX SSRC, payload type and sequence number
//                + OSN (the original sequence number, 16 bits) + the original payload.
//
// build_rtx_packet writes a retransmission of a stored original into a caller's buffer; the
// result is returned as an RtpPacket view over that buffer so the caller can rewrite the copied
// header extension elements in place (a transport-wide sequence number of its own, say), or it
// asks for the extension block to be left out. unwrap_rtx_in_place turns a received RTX packet
// back into the original it repairs without copying the payload: the header moves forward over
// the two OSN bytes. An RTX packet without payload is bandwidth-probing padding (what libwebrtc
// sends to probe, RFC 4588 §4 allows an RTX packet to carry padding only) and is refused as
// kPaddingOnly, so it can never be forwarded as media.
//
// No allocation, no throw; every size is checked. Threading: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <span>
#include <string_view>

#include "media/rtp/rtp_packet.hpp"

namespace chorus::sfu {

enum class RtxError : std::uint8_t {
  kNotRtp,              // unwrap: not a valid RTP packet
  kPaddingOnly,         // unwrap: no payload at all, only padding (probing); not media
  kTruncatedOsn,        // unwrap: a payload of one byte cannot hold the 2-byte OSN
  kEmptyOriginal,       // unwrap: an OSN and nothing after it; build: an original without payload
  kInvalidPayloadType,  // a payload type above 127
  kBufferTooSmall,      // build: `out` cannot hold the RTX packet
};
[[nodiscard]] std::string_view to_string(RtxError error) noexcept;

inline constexpr std::size_t kRtxOsnSize = 2;  // RFC 4588 §4: original sequence number

enum class RtxHeaderExtensions : std::uint8_t {
  kCopy,  // the original's extension block, byte for byte (rewrite elements through the result)
  kDrop,  // no extension block (X bit clear)
};

struct RtxSendParams {
  std::uint32_t ssrc = 0;             // the RTX stream's SSRC
  std::uint8_t payload_type = 0;      // the RTX payload type (a=rtpmap:N rtx/90000)
  std::uint16_t sequence_number = 0;  // the RTX stream's own sequence number (RFC 4588 §4)
  RtxHeaderExtensions extensions = RtxHeaderExtensions::kCopy;
};

// RFC 4588 §4: `original` retransmitted as RTX in `out` — marker, timestamp and CSRCs kept, the
// original's sequence number as OSN, its payload after it, its padding not copied. `out` must
// not overlap the original's buffer (copy a cached packet out, rewrite it, then wrap it).
[[nodiscard]] std::expected<media::RtpPacket, RtxError> build_rtx_packet(const media::RtpPacket& original,
                                                                         const RtxSendParams& params,
                                                                         std::span<std::uint8_t> out) noexcept;

struct RtxRepairParams {
  std::uint32_t media_ssrc = 0;         // the SSRC of the stream the RTX stream repairs
  std::uint8_t media_payload_type = 0;  // the payload type the RTX payload type's apt names
};

// RFC 4588 §4: the RTX packet in `buffer` becomes the original it carries, in place: OSN →
// sequence number, apt → payload type, the repaired stream's SSRC. The original occupies
// buffer[2..] afterwards (the returned view); nothing changes on an error.
[[nodiscard]] std::expected<media::RtpPacket, RtxError> unwrap_rtx_in_place(std::span<std::uint8_t> buffer,
                                                                            const RtxRepairParams& params) noexcept;

// A packet with no payload: RTX padding for probing (or an empty media packet); never media.
[[nodiscard]] inline bool is_padding_only(const media::RtpPacket& packet) noexcept {
  return packet.payload().empty();
}

}  // namespace chorus::sfu
