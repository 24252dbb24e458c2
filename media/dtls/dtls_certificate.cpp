#include "media/dtls/dtls_certificate.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cctype>

#include "media/dtls/openssl_error.hpp"

namespace chorus::media::dtls {
namespace {

constexpr long kOneDaySeconds = 24L * 60 * 60;
constexpr long kValidityDays = 30;
constexpr int kSerialBits = 63;  // a positive 64-bit serial (RFC 5280 §4.1.2.2 allows up to 20 octets)

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

std::string drain_bio(BIO* bio) {
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  if (length <= 0 || data == nullptr) return {};
  return std::string(data, static_cast<std::size_t>(length));
}

// Random positive serial so two certificates we generate never share issuer and serial.
bool set_random_serial(X509* certificate) {
  std::unique_ptr<BIGNUM, decltype(&BN_free)> serial(BN_new(), &BN_free);
  if (!serial || BN_rand(serial.get(), kSerialBits, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1) return false;
  return BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(certificate)) != nullptr;
}

bool set_name_and_validity(X509* certificate) {
  X509_NAME* name = X509_get_subject_name(certificate);
  const auto* common_name = reinterpret_cast<const unsigned char*>("chorus");
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, common_name, -1, -1, 0) != 1) return false;
  if (X509_set_issuer_name(certificate, name) != 1) return false;  // self-signed
  // Valid from a day ago (peers with a slow clock) for kValidityDays in all.
  if (X509_gmtime_adj(X509_getm_notBefore(certificate), -kOneDaySeconds) == nullptr) return false;
  return X509_gmtime_adj(X509_getm_notAfter(certificate), (kValidityDays - 1) * kOneDaySeconds) != nullptr;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

}  // namespace

void DtlsCertificate::X509Deleter::operator()(X509* certificate) const {
  X509_free(certificate);
}
void DtlsCertificate::KeyDeleter::operator()(EVP_PKEY* key) const {
  EVP_PKEY_free(key);
}

DtlsCertificate::DtlsCertificate(X509Ptr certificate, KeyPtr key, std::array<std::uint8_t, kSha256Length> fingerprint)
    : certificate_(std::move(certificate)),
      key_(std::move(key)),
      fingerprint_(fingerprint),
      fingerprint_text_(format_fingerprint_hex(fingerprint)) {}

std::expected<DtlsCertificate, std::string> DtlsCertificate::from_parts(X509Ptr certificate, KeyPtr key) {
  auto fingerprint = certificate_sha256(certificate.get());
  if (!fingerprint) return std::unexpected(openssl_error("cannot hash the certificate"));
  return DtlsCertificate(std::move(certificate), std::move(key), *fingerprint);
}

std::expected<DtlsCertificate, std::string> DtlsCertificate::generate() {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return std::unexpected(openssl_error("cannot generate a P-256 key"));
  X509Ptr certificate(X509_new());
  if (!certificate) return std::unexpected(openssl_error("cannot allocate a certificate"));
  if (X509_set_version(certificate.get(), X509_VERSION_3) != 1 || !set_random_serial(certificate.get()) ||
      !set_name_and_validity(certificate.get()) || X509_set_pubkey(certificate.get(), key.get()) != 1) {
    return std::unexpected(openssl_error("cannot fill in the certificate"));
  }
  if (X509_sign(certificate.get(), key.get(), EVP_sha256()) <= 0) {
    return std::unexpected(openssl_error("cannot sign the certificate"));
  }
  return from_parts(std::move(certificate), std::move(key));
}

std::expected<DtlsCertificate, std::string> DtlsCertificate::load_pem(const std::string& cert_path,
                                                                      const std::string& key_path) {
  BioPtr cert_file(BIO_new_file(cert_path.c_str(), "r"));
  if (!cert_file) return std::unexpected(openssl_error("cannot open certificate file " + cert_path));
  X509Ptr certificate(PEM_read_bio_X509(cert_file.get(), nullptr, nullptr, nullptr));
  if (!certificate) return std::unexpected(openssl_error("no PEM certificate in " + cert_path));
  BioPtr key_file(BIO_new_file(key_path.c_str(), "r"));
  if (!key_file) return std::unexpected(openssl_error("cannot open key file " + key_path));
  // An empty passphrase callback result: encrypted keys are refused rather than prompting on a tty.
  KeyPtr key(PEM_read_bio_PrivateKey(key_file.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr));
  if (!key) return std::unexpected(openssl_error("no unencrypted PEM private key in " + key_path));
  if (X509_check_private_key(certificate.get(), key.get()) != 1) {
    return std::unexpected(openssl_error("the key in " + key_path + " does not match the certificate in " + cert_path));
  }
  return from_parts(std::move(certificate), std::move(key));
}

std::string DtlsCertificate::certificate_pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), certificate_.get()) != 1) return {};
  return drain_bio(bio.get());
}

std::string DtlsCertificate::private_key_pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) return {};
  return drain_bio(bio.get());
}

std::optional<std::array<std::uint8_t, kSha256Length>> certificate_sha256(X509* certificate) {
  std::array<std::uint8_t, kSha256Length> digest{};
  unsigned int length = 0;
  // X509_digest hashes the DER encoding of the whole certificate (RFC 8122 §5).
  if (certificate == nullptr || X509_digest(certificate, EVP_sha256(), digest.data(), &length) != 1 ||
      length != kSha256Length) {
    return std::nullopt;
  }
  return digest;
}

std::string format_fingerprint_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string text;
  text.reserve(bytes.size() * 3);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i != 0) text += ':';
    text += kDigits[bytes[i] >> 4];
    text += kDigits[bytes[i] & 0x0f];
  }
  return text;
}

std::optional<std::vector<std::uint8_t>> parse_fingerprint_attribute(std::string_view value) {
  if (value.size() > kMaxFingerprintAttributeLength) return std::nullopt;
  // RFC 8122 §5: fingerprint-attribute = "fingerprint" ":" hash-func SP fingerprint.
  const std::size_t space = value.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  if (!equals_ignoring_case(value.substr(0, space), "sha-256")) return std::nullopt;
  std::string_view hex = value.substr(space + 1);
  while (!hex.empty() && (hex.back() == ' ' || hex.back() == '\t')) hex.remove_suffix(1);  // trailing WSP
  // 2UHEX *(":" 2UHEX): exactly 32 pairs means 32 * 3 - 1 characters.
  if (hex.size() != kSha256Length * 3 - 1) return std::nullopt;
  std::vector<std::uint8_t> bytes;
  bytes.reserve(kSha256Length);
  for (std::size_t i = 0; i < hex.size(); i += 3) {
    const int high = hex_value(hex[i]);
    const int low = hex_value(hex[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    if (i + 2 < hex.size() && hex[i + 2] != ':') return std::nullopt;
    bytes.push_back(static_cast<std::uint8_t>(high << 4 | low));
  }
  return bytes;
}

std::string format_fingerprint_attribute(const DtlsCertificate& certificate) {
  return "sha-256 " + certificate.fingerprint_sha256();
}

}  // namespace chorus::media::dtls
