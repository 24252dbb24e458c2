#include "media/srtp/libsrtp_reference.hpp"

#include <openssl/crypto.h>
#include <srtp2/srtp.h>

#include <array>
#include <cstring>
#include <mutex>

#include "common/log.hpp"
#include "media/srtp/srtp_session.hpp"

namespace chorus::media {

// Callers size their buffers by these without including srtp.h.
static_assert(kSrtpMaxTrailer == SRTP_MAX_TRAILER_LEN, "kSrtpMaxTrailer must match libsrtp's trailer bound");
static_assert(kSrtcpMaxTrailer == SRTP_MAX_TRAILER_LEN + 4);  // srtp_protect_rtcp() adds E || index

namespace {

constexpr std::size_t kMaxKeySaltLength = 44;  // AEAD_AES_256_GCM: 32-octet key, 12-octet salt

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

}  // namespace

void LibsrtpDeleter::operator()(srtp_ctx_t_* session) const {
  srtp_dealloc(session);
}

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

LibsrtpSession make_libsrtp_session(SrtpSuite suite, std::span<const std::uint8_t> key_salt, bool outbound) {
  if (key_salt.size() != key_salt_length(suite) || !ensure_srtp_initialised()) return nullptr;
  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof(policy));
  set_crypto_policy(suite, policy.rtp);
  policy.rtcp = policy.rtp;
  if (suite == SrtpSuite::kAesCm128HmacSha1_32) srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
  // libsrtp takes a non-const key pointer and keeps no reference to it after srtp_create().
  std::array<unsigned char, kMaxKeySaltLength> key{};
  std::memcpy(key.data(), key_salt.data(), key_salt.size());
  policy.key = key.data();
  policy.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
  policy.window_size = kSrtpReplayWindow;
  policy.allow_repeat_tx = outbound ? 1 : 0;
  srtp_t session = nullptr;
  const srtp_err_status_t status = srtp_create(&session, &policy);
  OPENSSL_cleanse(key.data(), key.size());
  if (status != srtp_err_status_ok) {
    if (session != nullptr) srtp_dealloc(session);
    return nullptr;
  }
  return LibsrtpSession(session);
}

}  // namespace chorus::media
