#include "media/srtp/srtp_session.hpp"

#include <openssl/crypto.h>
#include <srtp2/srtp.h>

#include <array>
#include <climits>
#include <cstring>
#include <mutex>

#include "common/log.hpp"

namespace chorus::media {

static_assert(kSrtpMaxTrailer == SRTP_MAX_TRAILER_LEN, "kSrtpMaxTrailer must match libsrtp's trailer bound");
// libsrtp's srtp_protect_rtcp() may write SRTP_MAX_TRAILER_LEN + 4 octets after the packet.
static_assert(kSrtcpMaxTrailer == SRTP_MAX_TRAILER_LEN + 4);

namespace {

constexpr std::size_t kMaxKeySaltLength = 44;  // AEAD_AES_256_GCM: 32-octet key, 12-octet salt

// RFC 4568 §6.2 and RFC 7714 §12 (16-octet GCM tag): the suite's transform for SRTP.
void set_crypto_policy(SrtpSuite suite, srtp_crypto_policy_t& policy) {
  switch (suite) {
    case SrtpSuite::kAesCm128HmacSha1_80:
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy);
      return;
    case SrtpSuite::kAesCm128HmacSha1_32:
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy);
      return;
    case SrtpSuite::kAeadAes128Gcm:
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy);
      return;
    case SrtpSuite::kAeadAes256Gcm:
      srtp_crypto_policy_set_aes_gcm_256_16_auth(&policy);
      return;
  }
}

void set_rtcp_crypto_policy(SrtpSuite suite, srtp_crypto_policy_t& policy) {
  switch (suite) {
    case SrtpSuite::kAesCm128HmacSha1_32:
      // RFC 4568 §6.2.2, RFC 5764 §4.1.2: the _32 suite shortens the SRTP tag only; SRTCP keeps
      // the 80-bit tag.
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy);
      return;
    default:
      set_crypto_policy(suite, policy);
      return;
  }
}

bool is_replay(srtp_err_status_t status) {
  return status == srtp_err_status_replay_fail || status == srtp_err_status_replay_old ||
         status == srtp_err_status_pkt_idx_old;
}

}  // namespace

bool ensure_srtp_initialised() {
  // libsrtp keeps process-wide tables (crypto kernel, debug modules) that srtp_init() sets up once.
  static std::once_flag once;
  static srtp_err_status_t result = srtp_err_status_fail;
  std::call_once(once, [] {
    result = srtp_init();
    if (result != srtp_err_status_ok) {
      CHORUS_LOG(kError, "srtp", "srtp_init failed", {"status", static_cast<int>(result)});
    }
  });
  return result == srtp_err_status_ok;
}

void SrtpSession::ContextDeleter::operator()(srtp_ctx_t_* context) const {
  const srtp_err_status_t status = srtp_dealloc(context);
  if (status != srtp_err_status_ok) {
    CHORUS_LOG(kError, "srtp", "srtp_dealloc failed", {"status", static_cast<int>(status)});
  }
}

std::expected<SrtpSession, std::string> SrtpSession::create(SrtpSuite suite, std::span<const std::uint8_t> key_salt,
                                                            SrtpDirection direction) {
  if (key_salt.size() != key_salt_length(suite)) {
    return std::unexpected("SRTP key||salt is " + std::to_string(key_salt.size()) + " octets, " +
                           std::string(suite_name(suite)) + " needs " + std::to_string(key_salt_length(suite)));
  }
  if (!ensure_srtp_initialised()) return std::unexpected("libsrtp failed to initialise");

  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof(policy));
  set_crypto_policy(suite, policy.rtp);
  set_rtcp_crypto_policy(suite, policy.rtcp);
  policy.ssrc.type = direction == SrtpDirection::kInbound ? ssrc_any_inbound : ssrc_any_outbound;
  policy.ssrc.value = 0;
  // libsrtp takes a non-const key pointer; it derives the session keys during srtp_create() and
  // keeps no reference to this copy, which is wiped right after.
  std::array<unsigned char, kMaxKeySaltLength> key{};
  std::memcpy(key.data(), key_salt.data(), key_salt.size());
  policy.key = key.data();
  policy.window_size = kSrtpReplayWindow;  // RFC 3711 §3.3.2
  // A NACK answered from the send history protects the same packet (same index, same payload)
  // again; libsrtp refuses a repeated index on protect unless this is set.
  policy.allow_repeat_tx = direction == SrtpDirection::kOutbound ? 1 : 0;
  policy.next = nullptr;

  srtp_t raw = nullptr;
  const srtp_err_status_t status = srtp_create(&raw, &policy);
  OPENSSL_cleanse(key.data(), key.size());
  if (status != srtp_err_status_ok) {
    if (raw != nullptr) ContextDeleter{}(raw);
    return std::unexpected("srtp_create failed with status " + std::to_string(static_cast<int>(status)) + " for " +
                           std::string(suite_name(suite)));
  }
  return SrtpSession(Context(raw), suite, direction);
}

std::optional<std::size_t> SrtpSession::protect_rtp(std::span<std::uint8_t> buffer, std::size_t length) {
  return transform(Operation::kProtectRtp, buffer, length);
}

std::optional<std::size_t> SrtpSession::unprotect_rtp(std::span<std::uint8_t> buffer, std::size_t length) {
  return transform(Operation::kUnprotectRtp, buffer, length);
}

std::optional<std::size_t> SrtpSession::protect_rtcp(std::span<std::uint8_t> buffer, std::size_t length) {
  return transform(Operation::kProtectRtcp, buffer, length);
}

std::optional<std::size_t> SrtpSession::unprotect_rtcp(std::span<std::uint8_t> buffer, std::size_t length) {
  return transform(Operation::kUnprotectRtcp, buffer, length);
}

std::optional<std::size_t> SrtpSession::transform(Operation operation, std::span<std::uint8_t> buffer,
                                                  std::size_t length) {
  const bool outbound = operation == Operation::kProtectRtp || operation == Operation::kProtectRtcp;
  const bool rtcp = operation == Operation::kProtectRtcp || operation == Operation::kUnprotectRtcp;
  const std::size_t trailer = !outbound ? 0 : (rtcp ? kSrtcpMaxTrailer : kSrtpMaxTrailer);
  const std::size_t min_length = rtcp ? kMinRtcpLength : kMinRtpLength;
  const bool aligned = reinterpret_cast<std::uintptr_t>(buffer.data()) % 4 == 0;
  // Everything libsrtp assumes but does not check: the direction the stream template was made
  // for, writable room for the trailer, a length that fits its int, 32-bit alignment.
  if (!context_ || outbound != (direction_ == SrtpDirection::kOutbound) || length < min_length ||
      length > buffer.size() || buffer.size() - length < trailer ||
      length > static_cast<std::size_t>(INT_MAX) - trailer || !aligned) {
    ++counters_.other;
    return std::nullopt;
  }
  int octets = static_cast<int>(length);
  srtp_err_status_t status = srtp_err_status_fail;
  switch (operation) {
    case Operation::kProtectRtp:
      status = srtp_protect(context_.get(), buffer.data(), &octets);
      break;
    case Operation::kUnprotectRtp:
      status = srtp_unprotect(context_.get(), buffer.data(), &octets);
      break;
    case Operation::kProtectRtcp:
      status = srtp_protect_rtcp(context_.get(), buffer.data(), &octets);
      break;
    case Operation::kUnprotectRtcp:
      status = srtp_unprotect_rtcp(context_.get(), buffer.data(), &octets);
      break;
  }
  if (status != srtp_err_status_ok) {
    count_failure(status);
    return std::nullopt;
  }
  if (octets < 0 || static_cast<std::size_t>(octets) > buffer.size()) {
    ++counters_.other;
    return std::nullopt;
  }
  ++(outbound ? counters_.protected_packets : counters_.unprotected_packets);
  return static_cast<std::size_t>(octets);
}

void SrtpSession::count_failure(int status) {
  const auto code = static_cast<srtp_err_status_t>(status);
  if (is_replay(code)) {
    ++counters_.replay;
  } else if (code == srtp_err_status_auth_fail) {
    ++counters_.auth_failure;
  } else {
    ++counters_.other;
  }
}

}  // namespace chorus::media
