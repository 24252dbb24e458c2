// DTLS-SRTP key derivation (RFC 5764 §4.2): once the handshake is done, both ends export the
// same keying material with the label "EXTRACTOR-dtls_srtp" (RFC 5705) and cut it into the SRTP
// master keys and salts of the client and the server.
// Threading: functions over one SSL, called by the transport that owns it.
#pragma once

#include <openssl/types.h>

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <vector>

#include "media/dtls/dtls_context.hpp"
#include "media/srtp/sdes.hpp"

namespace chorus::media::dtls {

// What SrtpSession::create needs for each direction: our outbound key||salt (`local_key_salt`,
// key_salt_length(suite) octets) and the peer's, which keys our inbound session.
struct DtlsSrtpKeys {
  SrtpSuite suite = SrtpSuite::kAesCm128HmacSha1_80;
  std::vector<std::uint8_t> local_key_salt;
  std::vector<std::uint8_t> remote_key_salt;
};

// RFC 5764 §4.1.2 and RFC 7714 §14.2 profile ids to our suites; nullopt for a profile we do not
// offer (the NULL-cipher and 32-bit-tag profiles).
std::optional<SrtpSuite> suite_for_srtp_profile(unsigned long profile_id);

// RFC 5764 §4.2: exports 2 * (key + salt) octets laid out as client_write_key |
// server_write_key | client_write_salt | server_write_salt, and gives our role's pair as local.
// Fails when no SRTP profile was negotiated or the export fails. The exported material is
// cleansed before returning; the caller owns the copies in the result.
std::expected<DtlsSrtpKeys, std::string> export_srtp_keys(SSL* ssl, DtlsRole role);

}  // namespace chorus::media::dtls
