#include "media/rtp/packet_kind.hpp"

namespace chorus::media {

namespace {

bool has_stun_magic_cookie(std::span<const std::uint8_t> datagram) {
  const std::uint32_t cookie = (std::uint32_t{datagram[4]} << 24) | (std::uint32_t{datagram[5]} << 16) |
                               (std::uint32_t{datagram[6]} << 8) | std::uint32_t{datagram[7]};
  return cookie == kStunMagicCookie;
}

// RFC 5761 §4: RTCP packet types 192..223 (SR 200, RR 201, SDES 202, BYE 203, APP 204, RTPFB 205,
// PSFB 206, XR 207) collide with RTP's marker bit + payload types 64..95, which is why RTP must
// not use those payload types on a muxed port. Everything else in 128..255 is RTP.
bool is_rtcp_packet_type(std::uint8_t second_byte) {
  return second_byte >= 192 && second_byte <= 223;
}

}  // namespace

PacketKind classify_packet(std::span<const std::uint8_t> datagram) noexcept {
  if (datagram.empty()) return PacketKind::kUnknown;
  const std::uint8_t first = datagram[0];
  // RFC 7983 §7: [0..3] STUN. The two leading zero bits alone are weak evidence, so RFC 5389 §6's
  // magic cookie must be present too (it also rules out classic RFC 3489 STUN, which we do not serve).
  if (first <= 3) {
    if (datagram.size() < kStunHeaderSize || !has_stun_magic_cookie(datagram)) return PacketKind::kUnknown;
    return PacketKind::kStun;
  }
  // RFC 7983 §7: [20..63] DTLS (content types 20..23 today; the range is reserved for DTLS).
  if (first >= 20 && first <= 63) {
    return datagram.size() >= kDtlsRecordHeaderSize ? PacketKind::kDtls : PacketKind::kUnknown;
  }
  // RFC 7983 §7: [128..191] RTP or RTCP, i.e. version 2 in the top two bits.
  if (first >= 128 && first <= 191) {
    if (datagram.size() < 2) return PacketKind::kUnknown;
    if (is_rtcp_packet_type(datagram[1])) {
      return datagram.size() >= kRtcpMinimumSize ? PacketKind::kRtcp : PacketKind::kUnknown;
    }
    return datagram.size() >= kRtpMinimumSize ? PacketKind::kRtp : PacketKind::kUnknown;
  }
  return PacketKind::kUnknown;
}

std::string_view to_string(PacketKind kind) noexcept {
  switch (kind) {
    case PacketKind::kStun:
      return "stun";
    case PacketKind::kDtls:
      return "dtls";
    case PacketKind::kRtp:
      return "rtp";
    case PacketKind::kRtcp:
      return "rtcp";
    case PacketKind::kUnknown:
      break;
  }
  return "unknown";
}

}  // namespace chorus::media
