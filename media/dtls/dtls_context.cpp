#include "media/dtls/dtls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "media/dtls/openssl_error.hpp"

namespace chorus::media::dtls {
namespace {

// ECDHE over the curves browsers offer; RFC 8422 §5.1.1 names them.
constexpr const char* kGroups = "P-256:X25519";
// Forward-secret AEAD suites first (RFC 7525 §4.2), then the CBC suites older DTLS stacks still
// pick. Our own certificate is ECDSA, so as server we select an ECDHE-ECDSA suite; a client peer
// may present RSA, which only its own signature needs.
constexpr const char* kCipherList =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA";

// RFC 5763 §5: the certificate is self-signed and its chain proves nothing; accept it here and
// let DtlsTransport compare its SHA-256 with the SDP fingerprint after the handshake.
int accept_any_certificate(int /*preverify_ok*/, X509_STORE_CTX* /*store*/) {
  return 1;
}

bool ascii_equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

DtlsRole answer_role_for_offer_setup(std::string_view setup) {
  // RFC 4145 §4: attribute values are case-insensitive tokens.
  if (ascii_equal_ignoring_case(setup, "passive")) return DtlsRole::kClient;
  return DtlsRole::kServer;  // actpass, active, or anything we do not understand
}

std::string_view setup_attribute_for(DtlsRole role) {
  return role == DtlsRole::kServer ? "passive" : "active";
}

void DtlsContext::ContextDeleter::operator()(SSL_CTX* context) const {
  SSL_CTX_free(context);
}

std::expected<DtlsContext, std::string> DtlsContext::create(const DtlsCertificate& certificate,
                                                            std::string_view srtp_profiles) {
  ContextPtr context(SSL_CTX_new(DTLS_method()));
  if (!context) return std::unexpected(openssl_error("cannot create the DTLS context"));
  SSL_CTX* ctx = context.get();
  if (SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) != 1) {
    return std::unexpected(openssl_error("cannot require DTLS 1.2"));
  }
  if (SSL_CTX_use_certificate(ctx, certificate.x509()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx, certificate.private_key()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return std::unexpected(openssl_error("cannot install the DTLS certificate"));
  }
  if (SSL_CTX_set_cipher_list(ctx, kCipherList) != 1) return std::unexpected(openssl_error("cannot set the ciphers"));
  if (SSL_CTX_set1_groups_list(ctx, kGroups) != 1) return std::unexpected(openssl_error("cannot set the groups"));
  // RFC 5764 §4.1.1: the use_srtp extension. OpenSSL returns 0 on success here.
  const std::string profiles(srtp_profiles);
  if (SSL_CTX_set_tlsext_use_srtp(ctx, profiles.c_str()) != 0) {
    return std::unexpected(openssl_error("cannot set the SRTP profiles \"" + profiles + "\""));
  }
  // Both roles ask for the peer's certificate: without it there is nothing to match the SDP
  // fingerprint against (RFC 5763 §5: the server must request a client certificate).
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any_certificate);
  // One handshake per transport: no resumption, no tickets, no renegotiation, no compression.
  // SSL_OP_NO_QUERY_MTU: there is no socket to ask; DtlsTransport sets the MTU itself.
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_NO_QUERY_MTU |
                               SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_read_ahead(ctx, 1);
  return DtlsContext(std::move(context), certificate.fingerprint_sha256());
}

}  // namespace chorus::media::dtls
