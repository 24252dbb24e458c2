// classify_packet: the RFC 7983 first-byte demultiplexer for the single UDP port a media worker
// serves. STUN (ICE connectivity checks), DTLS (DTLS-SRTP key exchange), RTP and RTCP (RFC 5761
// mux) share one 5-tuple; the first byte, and for RTP/RTCP the second, tells them apart.
//
// The classifier only routes: it checks the minimum size of each protocol's fixed header (and the
// STUN magic cookie) so the next stage's parser is never handed a datagram that cannot hold its
// header, but that parser still validates every field. It reads nothing past the first 8 bytes,
// allocates nothing and never throws. Threading: a pure function, safe from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace chorus::media {

enum class PacketKind { kStun, kDtls, kRtp, kRtcp, kUnknown };

// Minimum sizes a datagram must have before it is handed to the protocol's parser.
inline constexpr std::size_t kStunHeaderSize = 20;             // RFC 5389 §6: fixed 20-byte header
inline constexpr std::size_t kDtlsRecordHeaderSize = 13;       // RFC 6347 §4.1: type, version, epoch, seq, length
inline constexpr std::size_t kRtpMinimumSize = 12;             // RFC 3550 §5.1: fixed header
inline constexpr std::size_t kRtcpMinimumSize = 8;             // RFC 3550 §6.4.2: an empty RR (header + SSRC)
inline constexpr std::uint32_t kStunMagicCookie = 0x2112A442;  // RFC 5389 §6

// RFC 7983 §7 with RFC 5761 §4 for RTP vs RTCP. ZRTP (16..19), TURN channels (64..79) and
// anything too short for its header are kUnknown: this server speaks neither ZRTP nor TURN.
[[nodiscard]] PacketKind classify_packet(std::span<const std::uint8_t> datagram) noexcept;

[[nodiscard]] std::string_view to_string(PacketKind kind) noexcept;

}  // namespace chorus::media
