// SrtpTransform: SRTP and SRTCP (RFC 3711) for the suites Chorus negotiates, on OpenSSL's EVP
// ciphers: AES_CM_128_HMAC_SHA1_80/_32 (RFC 3711 §4.1.1, §4.2.1, RFC 4568 §6.2) and
// AEAD_AES_128_GCM/AEAD_AES_256_GCM (RFC 7714). SrtpSession (srtp_session.hpp) is its interface.
//
// Why not libsrtp2 at run time: Debian builds it on NSS, which creates and frees a PKCS#11 context
// around every AES and HMAC call, behind a mutex. On the echo room that was half of an echoed
// packet's cost (issue 13, bench/media_pps: pthread_mutex 9%, NSS/freebl/softokn 26%, malloc 7% of
// the worker). Here each direction keys its cipher and MAC contexts once; a packet costs a
// re-IV and the block operations (AES-NI, SHA extensions where the CPU has them). libsrtp stays the
// reference: srtp_transform_test checks every suite both ways against it, byte for byte.
//
// Keys: the session keys come from the master key and salt by the AES-CM PRF of RFC 3711 §4.3.1
// (key derivation rate 0; AES-256 for the 256-bit GCM suite, RFC 6188 §7); the 96-bit GCM master
// salt is padded with two zero octets to the PRF's 112 bits, as libsrtp and browsers do.
//
// State per SSRC (at most kMaxStreams, least recently used first out): the rollover counter and
// highest index estimated from the sequence numbers (RFC 3711 §3.3.1, Appendix A) and, inbound, a
// replay window of kSrtpReplayWindow indices (§3.3.2); for SRTCP the 31-bit index (§3.4). An
// inbound stream is remembered only after a packet of it authenticated, so forged packets cannot
// fill the table or move its windows. Outbound, an index may be protected again (a NACKed packet
// resent from the history) as libsrtp's allow_repeat_tx allows.
// Threading: one owner (the media worker of the call).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "media/srtp/sdes.hpp"

namespace chorus::media {

enum class SrtpOutcome : std::uint8_t { kOk, kReplay, kAuthFailure, kOther };

class SrtpTransform {
 public:
  static constexpr std::size_t kMaxStreams = 128;

  // Null when OpenSSL refuses the ciphers (cannot happen with a sane libcrypto) or the key length
  // does not fit the suite.
  static std::unique_ptr<SrtpTransform> create(SrtpSuite suite, std::span<const std::uint8_t> key_salt, bool outbound);
  ~SrtpTransform();
  SrtpTransform(const SrtpTransform&) = delete;
  SrtpTransform& operator=(const SrtpTransform&) = delete;

  // In place; `length` is updated. The caller has checked the direction, the minimum length and
  // that protect has room for the trailer (SrtpSession::transform).
  SrtpOutcome protect_rtp(std::span<std::uint8_t> buffer, std::size_t& length);
  SrtpOutcome unprotect_rtp(std::span<std::uint8_t> buffer, std::size_t& length);
  SrtpOutcome protect_rtcp(std::span<std::uint8_t> buffer, std::size_t& length);
  SrtpOutcome unprotect_rtcp(std::span<std::uint8_t> buffer, std::size_t& length);

  // SSRCs (RTP and SRTCP apart) whose state is kept; at most kMaxStreams.
  [[nodiscard]] std::size_t stream_count() const;

  struct Keys;    // one packet type's session keys and cipher contexts (srtp_transform.cpp)
  struct Stream;  // one SSRC's indices and replay window

 private:
  explicit SrtpTransform(SrtpSuite suite);

  Stream* find(std::uint32_t ssrc, bool rtcp);
  Stream& remember(const Stream& stream);

  bool gcm_;
  std::unique_ptr<Keys> rtp_;
  std::unique_ptr<Keys> rtcp_;
  std::vector<Stream> streams_;
  std::uint64_t uses_ = 0;  // a clock for least-recently-used eviction
};

}  // namespace chorus::media
