#include "media/dtls/dtls_srtp_keys.hpp"

#include <openssl/crypto.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <string_view>

#include "media/dtls/openssl_error.hpp"

namespace chorus::media::dtls {
namespace {

// RFC 5764 §4.2 names the exporter label.
constexpr std::string_view kExporterLabel = "EXTRACTOR-dtls_srtp";

struct KeyLayout {
  std::size_t key_length;
  std::size_t salt_length;
};

// RFC 5764 §4.1.2: AES128_CM_HMAC_SHA1_80 has a 128-bit key and a 112-bit salt;
// RFC 7714 §12: AEAD_AES_128_GCM has a 128-bit key and a 96-bit salt.
KeyLayout layout_for(SrtpSuite suite) {
  switch (suite) {
    case SrtpSuite::kAeadAes128Gcm:
      return {16, 12};
    case SrtpSuite::kAeadAes256Gcm:
      return {32, 12};
    default:
      return {16, 14};
  }
}

}  // namespace

std::optional<SrtpSuite> suite_for_srtp_profile(unsigned long profile_id) {
  switch (profile_id) {
    case SRTP_AES128_CM_SHA1_80:
      return SrtpSuite::kAesCm128HmacSha1_80;
    case SRTP_AES128_CM_SHA1_32:
      return SrtpSuite::kAesCm128HmacSha1_32;
    case SRTP_AEAD_AES_128_GCM:
      return SrtpSuite::kAeadAes128Gcm;
    case SRTP_AEAD_AES_256_GCM:
      return SrtpSuite::kAeadAes256Gcm;
    default:
      return std::nullopt;
  }
}

std::expected<DtlsSrtpKeys, std::string> export_srtp_keys(SSL* ssl, DtlsRole role) {
  const SRTP_PROTECTION_PROFILE* profile = SSL_get_selected_srtp_profile(ssl);
  // RFC 5764 §4.1.3: without a negotiated profile there is no SRTP to key.
  if (profile == nullptr) return std::unexpected("no SRTP profile was negotiated");
  const auto suite = suite_for_srtp_profile(profile->id);
  if (!suite) return std::unexpected("unsupported SRTP profile " + std::string(profile->name));

  const KeyLayout layout = layout_for(*suite);
  const std::size_t key = layout.key_length;
  const std::size_t salt = layout.salt_length;
  std::vector<std::uint8_t> material(2 * (key + salt));
  if (SSL_export_keying_material(ssl, material.data(), material.size(), kExporterLabel.data(), kExporterLabel.size(),
                                 nullptr, 0, 0) != 1) {
    OPENSSL_cleanse(material.data(), material.size());
    return std::unexpected(openssl_error("cannot export the DTLS-SRTP keying material"));
  }
  const auto* client_key = material.data();
  const auto* server_key = client_key + key;
  const auto* client_salt = server_key + key;
  const auto* server_salt = client_salt + salt;
  const auto key_salt = [&](const std::uint8_t* k, const std::uint8_t* s) {
    std::vector<std::uint8_t> out(k, k + key);
    out.insert(out.end(), s, s + salt);
    return out;
  };
  DtlsSrtpKeys keys;
  keys.suite = *suite;
  const bool client_role = role == DtlsRole::kClient;
  keys.local_key_salt = client_role ? key_salt(client_key, client_salt) : key_salt(server_key, server_salt);
  keys.remote_key_salt = client_role ? key_salt(server_key, server_salt) : key_salt(client_key, client_salt);
  OPENSSL_cleanse(material.data(), material.size());
  return keys;
}

}  // namespace chorus::media::dtls
