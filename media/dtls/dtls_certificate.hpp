// DtlsCertificate: the key pair and self-signed X.509 certificate a DTLS-SRTP endpoint presents
// (RFC 5763 §5: the certificate is usually self-signed; its binding to the call is the SDP
// `a=fingerprint` attribute, RFC 8122 §5), and that attribute's grammar.
//
// Generated certificates use an ECDSA P-256 key (what browsers generate for WebRTC), a random
// serial, CN "chorus" and a 30-day validity that starts a day in the past to absorb clock skew.
// Threading: an immutable value after creation; the OpenSSL objects it owns are reference
// counted and safe to share read-only, but the object itself is owned by one thread.
#pragma once

#include <openssl/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace chorus::media::dtls {

inline constexpr std::size_t kSha256Length = 32;
// Ingress limit for an a=fingerprint value: "sha-256 " and 32 colon-separated octets need 103
// characters; anything much longer is not a SHA-256 fingerprint.
inline constexpr std::size_t kMaxFingerprintAttributeLength = 256;

class DtlsCertificate {
 public:
  // A fresh ECDSA P-256 key and self-signed certificate. Control path: the error says which
  // OpenSSL step failed.
  static std::expected<DtlsCertificate, std::string> generate();
  // Certificate and private key from PEM files; the key must match the certificate. Errors name
  // the file that could not be read or parsed.
  static std::expected<DtlsCertificate, std::string> load_pem(const std::string& cert_path,
                                                              const std::string& key_path);

  DtlsCertificate(DtlsCertificate&&) noexcept = default;
  DtlsCertificate& operator=(DtlsCertificate&&) noexcept = default;
  DtlsCertificate(const DtlsCertificate&) = delete;
  DtlsCertificate& operator=(const DtlsCertificate&) = delete;
  ~DtlsCertificate() = default;

  // SHA-256 of the certificate's DER as upper-case colon-separated hex, "AB:CD:..." (RFC 8122 §5).
  [[nodiscard]] const std::string& fingerprint_sha256() const { return fingerprint_text_; }
  [[nodiscard]] std::span<const std::uint8_t, kSha256Length> fingerprint_bytes() const { return fingerprint_; }

  // PEM text of the certificate and of the private key (PKCS#8, unencrypted), e.g. to persist a
  // generated certificate; empty on an OpenSSL failure.
  [[nodiscard]] std::string certificate_pem() const;
  [[nodiscard]] std::string private_key_pem() const;

  // Borrowed pointers for DtlsContext; the certificate keeps ownership.
  [[nodiscard]] X509* x509() const { return certificate_.get(); }
  [[nodiscard]] EVP_PKEY* private_key() const { return key_.get(); }

 private:
  struct X509Deleter {
    void operator()(X509* certificate) const;
  };
  struct KeyDeleter {
    void operator()(EVP_PKEY* key) const;
  };
  using X509Ptr = std::unique_ptr<X509, X509Deleter>;
  using KeyPtr = std::unique_ptr<EVP_PKEY, KeyDeleter>;

  static std::expected<DtlsCertificate, std::string> from_parts(X509Ptr certificate, KeyPtr key);
  DtlsCertificate(X509Ptr certificate, KeyPtr key, std::array<std::uint8_t, kSha256Length> fingerprint);

  X509Ptr certificate_;
  KeyPtr key_;
  std::array<std::uint8_t, kSha256Length> fingerprint_{};
  std::string fingerprint_text_;
};

// SHA-256 of a certificate's DER encoding; nullopt when OpenSSL cannot encode it.
std::optional<std::array<std::uint8_t, kSha256Length>> certificate_sha256(X509* certificate);

// "AB:CD:..." for any octet string (RFC 8122 §5: UHEX pairs joined by ':').
std::string format_fingerprint_hex(std::span<const std::uint8_t> bytes);

// Parses an SDP `a=fingerprint` value, "sha-256 AB:CD:..." (RFC 8122 §5). The hash name is
// case-insensitive (RFC 4572 §5 registers names in lower case, some peers write upper case);
// only sha-256 is accepted, since it is what every WebRTC peer offers and what we answer. Hex
// digits of either case are accepted. Returns exactly 32 octets, or nullopt.
std::optional<std::vector<std::uint8_t>> parse_fingerprint_attribute(std::string_view value);
// "sha-256 AB:CD:..." for our certificate, the value after "a=fingerprint:".
std::string format_fingerprint_attribute(const DtlsCertificate& certificate);

}  // namespace chorus::media::dtls
