// SrtpSession: one direction of SRTP and SRTCP (RFC 3711, RFC 7714) protection, keyed by an SDES
// line (sdes.hpp) or by DTLS-SRTP (RFC 5764). The cryptography is SrtpTransform's
// (srtp_transform.hpp: OpenSSL, checked against libsrtp2 in the tests).
//
// An outbound session protects everything we send on one RTP session, whatever the SSRC; an
// inbound session unprotects everything we receive and keeps a replay window per SSRC (RFC 3711
// §3.3.2). The packet methods work in place, never throw and return nullopt for a packet that is
// dropped; each drop is counted by reason in counters(). A buffer must start on a 4-octet boundary
// (as libsrtp2 required; kept so that either may serve) and, for protect, have room after the
// packet for the trailer.
// Threading: a session belongs to the media worker that serves its call; it is not shared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "media/srtp/sdes.hpp"

namespace chorus::media {

class SrtpTransform;

enum class SrtpDirection : std::uint8_t { kInbound, kOutbound };

// Why packets were dropped. `replay` is a repeated or too-old index (RFC 3711 §3.3.2),
// `auth_failure` a tag that did not verify (forged, corrupted or wrong key), `other` everything
// else: a truncated or malformed packet, a buffer without room, the wrong direction.
struct SrtpCounters {
  std::uint64_t protected_packets = 0;
  std::uint64_t unprotected_packets = 0;
  std::uint64_t replay = 0;
  std::uint64_t auth_failure = 0;
  std::uint64_t other = 0;
};

// RFC 3711 §3.3.2 asks for a window of at least 64; 1024 absorbs the reordering of a jittery path.
inline constexpr unsigned long kSrtpReplayWindow = 1024;
// What protect may append: an RTP auth tag (up to 16 octets; we never use MKI), and for RTCP also
// the 4-octet E flag and SRTCP index (RFC 3711 §3.4). Matches libsrtp's SRTP_MAX_TRAILER_LEN
// (libsrtp_reference.cpp checks), so a buffer sized by it serves either implementation.
inline constexpr std::size_t kSrtpMaxTrailer = 16 + 128;
inline constexpr std::size_t kSrtcpMaxTrailer = kSrtpMaxTrailer + 4;
// RFC 3550 §5.1 and §6.4: the fixed RTP header and the RTCP common header with sender SSRC.
inline constexpr std::size_t kMinRtpLength = 12;
inline constexpr std::size_t kMinRtcpLength = 8;

class SrtpSession {
 public:
  // `key_salt` is the master key followed by the master salt, key_salt_length(suite) octets.
  // Control path: the error says what is wrong (bad length, OpenSSL refused the ciphers).
  static std::expected<SrtpSession, std::string> create(SrtpSuite suite, std::span<const std::uint8_t> key_salt,
                                                        SrtpDirection direction);

  SrtpSession(SrtpSession&&) noexcept;
  SrtpSession& operator=(SrtpSession&&) noexcept;
  SrtpSession(const SrtpSession&) = delete;
  SrtpSession& operator=(const SrtpSession&) = delete;
  ~SrtpSession();

  // The packet occupies buffer[0, length). On success the buffer holds the transformed packet
  // and the new length is returned; on failure the buffer's content is unspecified.
  // protect_* need buffer.size() >= length + kSrtpMaxTrailer (RTP) or kSrtcpMaxTrailer (RTCP).
  std::optional<std::size_t> protect_rtp(std::span<std::uint8_t> buffer, std::size_t length);
  std::optional<std::size_t> unprotect_rtp(std::span<std::uint8_t> buffer, std::size_t length);
  std::optional<std::size_t> protect_rtcp(std::span<std::uint8_t> buffer, std::size_t length);
  std::optional<std::size_t> unprotect_rtcp(std::span<std::uint8_t> buffer, std::size_t length);

  [[nodiscard]] const SrtpCounters& counters() const { return counters_; }
  [[nodiscard]] SrtpSuite suite() const { return suite_; }
  [[nodiscard]] SrtpDirection direction() const { return direction_; }

 private:
  SrtpSession(std::unique_ptr<SrtpTransform> transform, SrtpSuite suite, SrtpDirection direction);

  enum class Operation : std::uint8_t { kProtectRtp, kUnprotectRtp, kProtectRtcp, kUnprotectRtcp };
  std::optional<std::size_t> transform(Operation operation, std::span<std::uint8_t> buffer, std::size_t length);

  std::unique_ptr<SrtpTransform> transform_;
  SrtpSuite suite_;
  SrtpDirection direction_;
  SrtpCounters counters_;
};

}  // namespace chorus::media
