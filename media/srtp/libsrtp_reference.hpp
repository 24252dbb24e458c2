// libsrtp2 sessions with the policy Chorus negotiates, for the code that holds Chorus's own SRTP
// (srtp_transform.hpp) to the reference implementation or measures against it: the tests,
// bench/micro/srtp_pps and bench/tools/udp_reflector. Nothing on the call path uses libsrtp2.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "media/srtp/sdes.hpp"

struct srtp_ctx_t_;

namespace chorus::media {

struct LibsrtpDeleter {
  void operator()(srtp_ctx_t_* session) const;
};
using LibsrtpSession = std::unique_ptr<srtp_ctx_t_, LibsrtpDeleter>;

// One direction, any SSRC (ssrc_any_outbound / ssrc_any_inbound), the suite's RTP transform with the
// 80-bit SRTCP tag under AES_CM_128_HMAC_SHA1_32 (RFC 4568 §6.2.2), a kSrtpReplayWindow window and,
// outbound, repeated indices allowed (a NACKed packet protected again). Null when the key length does
// not fit the suite or libsrtp refuses.
LibsrtpSession make_libsrtp_session(SrtpSuite suite, std::span<const std::uint8_t> key_salt, bool outbound);

// libsrtp's srtp_init(), run once per process (std::call_once); make_libsrtp_session() calls it.
// True when the library initialised.
bool ensure_srtp_initialised();

}  // namespace chorus::media
