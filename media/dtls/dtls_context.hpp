// DtlsContext: the one OpenSSL SSL_CTX the process uses for DTLS-SRTP (RFC 5763, RFC 5764),
// built from our DtlsCertificate; every DtlsTransport makes its SSL from it. Also the
// connection role chosen from the SDP `a=setup` attribute (RFC 5763 §5, RFC 4145 §4).
//
// The context speaks DTLS 1.2 only (RFC 8827 §6.5 requires at least 1.2), with ECDHE over P-256
// or X25519, no session tickets and no renegotiation. It asks for the peer's certificate and
// accepts any chain in the verify callback: WebRTC certificates are self-signed, and what binds a
// certificate to the call is its SHA-256 against the SDP fingerprint, which DtlsTransport checks
// once the handshake has finished (RFC 5763 §5).
// Threading: create once at start-up; afterwards SSL_new from several media workers is safe
// (OpenSSL locks the SSL_CTX internally), the object itself is not mutated.
#pragma once

#include <openssl/types.h>

#include <expected>
#include <memory>
#include <string>
#include <string_view>

#include "media/dtls/dtls_certificate.hpp"

namespace chorus::media::dtls {

// RFC 5764 §4.1.2 and RFC 7714 §14.2 profile names, in our order of preference: the server picks
// the first of its list that the client offered, so AEAD-GCM wins whenever the peer has it.
inline constexpr std::string_view kDefaultSrtpProfiles = "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80";

enum class DtlsRole : std::uint8_t { kClient, kServer };

// RFC 5763 §5: the answerer picks its role from the offer's a=setup. "actpass" (what offerers must
// send) and "active" make us the passive side, the DTLS server; "passive" makes us active, the
// DTLS client. Anything else (including "holdconn" and an absent attribute) is treated as actpass.
DtlsRole answer_role_for_offer_setup(std::string_view setup);
// The a=setup value we answer with for the role: "passive" for the server, "active" for the client.
std::string_view setup_attribute_for(DtlsRole role);

class DtlsContext {
 public:
  // `srtp_profiles` is an OpenSSL profile list ("A:B"); tests narrow it to force a profile.
  static std::expected<DtlsContext, std::string> create(const DtlsCertificate& certificate,
                                                        std::string_view srtp_profiles = kDefaultSrtpProfiles);

  DtlsContext(DtlsContext&&) noexcept = default;
  DtlsContext& operator=(DtlsContext&&) noexcept = default;
  DtlsContext(const DtlsContext&) = delete;
  DtlsContext& operator=(const DtlsContext&) = delete;
  ~DtlsContext() = default;

  [[nodiscard]] SSL_CTX* native() const { return context_.get(); }
  // Our certificate's fingerprint, "AB:CD:...", for the SDP answer.
  [[nodiscard]] const std::string& local_fingerprint() const { return local_fingerprint_; }

 private:
  struct ContextDeleter {
    void operator()(SSL_CTX* context) const;
  };
  using ContextPtr = std::unique_ptr<SSL_CTX, ContextDeleter>;

  DtlsContext(ContextPtr context, std::string local_fingerprint)
      : context_(std::move(context)), local_fingerprint_(std::move(local_fingerprint)) {}

  ContextPtr context_;
  std::string local_fingerprint_;
};

}  // namespace chorus::media::dtls
