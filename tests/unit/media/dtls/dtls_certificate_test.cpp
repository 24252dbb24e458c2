#include "media/dtls/dtls_certificate.hpp"

#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include "tests/unit/test_support/temp_dir.hpp"

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "media/dtls/dtls_context.hpp"

namespace chorus::media::dtls {
namespace dtls_certificate_test {

DtlsCertificate generate_or_abort() {
  auto certificate = DtlsCertificate::generate();
  if (!certificate) {
    ADD_FAILURE() << certificate.error();
    std::abort();
  }
  return std::move(*certificate);
}

using chorus::test::TempDir;

std::string attribute_of(const std::string& hex) {
  return "sha-256 " + hex;
}

TEST(DtlsCertificate, GeneratedFingerprintIsUpperCaseColonHexOf32Octets) {
  const auto certificate = generate_or_abort();
  static const std::regex kFormat("^([0-9A-F]{2}:){31}[0-9A-F]{2}$");
  EXPECT_TRUE(std::regex_match(certificate.fingerprint_sha256(), kFormat)) << certificate.fingerprint_sha256();
  EXPECT_EQ(format_fingerprint_hex(certificate.fingerprint_bytes()), certificate.fingerprint_sha256());
}

TEST(DtlsCertificate, FingerprintIsSha256OfTheDerEncoding) {
  const auto certificate = generate_or_abort();
  unsigned char* der = nullptr;
  const int length = i2d_X509(certificate.x509(), &der);
  ASSERT_GT(length, 0);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  ASSERT_EQ(EVP_Digest(der, static_cast<std::size_t>(length), digest, &digest_length, EVP_sha256(), nullptr), 1);
  OPENSSL_free(der);
  ASSERT_EQ(digest_length, kSha256Length);
  EXPECT_TRUE(std::equal(digest, digest + digest_length, certificate.fingerprint_bytes().begin()));
}

TEST(DtlsCertificate, GeneratedCertificateIsSelfSignedP256WithChorusNameAndThirtyDayValidity) {
  const auto certificate = generate_or_abort();
  X509* x509 = certificate.x509();
  EXPECT_EQ(X509_verify(x509, certificate.private_key()), 1);  // self-signed with its own key
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(x509), X509_get_issuer_name(x509)), 0);
  char common_name[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(x509), NID_commonName, common_name, sizeof common_name);
  EXPECT_STREQ(common_name, "chorus");
  char group[64] = {};
  std::size_t group_length = 0;
  ASSERT_EQ(EVP_PKEY_get_group_name(certificate.private_key(), group, sizeof group, &group_length), 1);
  EXPECT_STREQ(group, "prime256v1");
  int days = 0;
  int seconds = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(x509), X509_get0_notAfter(x509)), 1);
  EXPECT_EQ(days, 30);
  EXPECT_EQ(seconds, 0);
  // Valid from about a day ago: now is inside the window, a day and a minute ago is not.
  EXPECT_LT(X509_cmp_current_time(X509_get0_notBefore(x509)), 0);
  EXPECT_GT(X509_cmp_current_time(X509_get0_notAfter(x509)), 0);
  ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(x509), nullptr), 1);
  EXPECT_EQ(days, 1);
}

TEST(DtlsCertificate, TwoGeneratedCertificatesDifferInKeySerialAndFingerprint) {
  const auto first = generate_or_abort();
  const auto second = generate_or_abort();
  EXPECT_NE(first.fingerprint_sha256(), second.fingerprint_sha256());
  EXPECT_NE(ASN1_INTEGER_cmp(X509_get0_serialNumber(first.x509()), X509_get0_serialNumber(second.x509())), 0);
  EXPECT_NE(EVP_PKEY_eq(first.private_key(), second.private_key()), 1);
}

TEST(DtlsCertificate, MovedCertificateKeepsItsObjects) {
  auto original = generate_or_abort();
  const std::string fingerprint = original.fingerprint_sha256();
  X509* x509 = original.x509();
  DtlsCertificate moved = std::move(original);
  EXPECT_EQ(moved.x509(), x509);
  EXPECT_EQ(moved.fingerprint_sha256(), fingerprint);
}

TEST(DtlsCertificate, LoadPemReadsBackAGeneratedCertificate) {
  const auto certificate = generate_or_abort();
  const TempDir dir;
  const auto cert_path = dir.file("cert.pem", certificate.certificate_pem());
  const auto key_path = dir.file("key.pem", certificate.private_key_pem());
  auto loaded = DtlsCertificate::load_pem(cert_path, key_path);
  ASSERT_TRUE(loaded) << loaded.error();
  EXPECT_EQ(loaded->fingerprint_sha256(), certificate.fingerprint_sha256());
  EXPECT_EQ(EVP_PKEY_eq(loaded->private_key(), certificate.private_key()), 1);
  EXPECT_TRUE(DtlsContext::create(*loaded)) << "a loaded certificate builds a context";
}

TEST(DtlsCertificate, LoadPemErrorsNameTheFile) {
  const auto certificate = generate_or_abort();
  const auto other = generate_or_abort();
  const TempDir dir;
  const auto cert_path = dir.file("cert.pem", certificate.certificate_pem());
  const auto key_path = dir.file("key.pem", certificate.private_key_pem());
  const auto other_key_path = dir.file("other-key.pem", other.private_key_pem());
  const auto garbage_path = dir.file("garbage.pem", "-----BEGIN CERTIFICATE-----\nnot base64\n");
  const auto missing_path = dir.missing("missing.pem");

  auto missing_cert = DtlsCertificate::load_pem(missing_path, key_path);
  ASSERT_FALSE(missing_cert);
  EXPECT_NE(missing_cert.error().find(missing_path), std::string::npos) << missing_cert.error();
  auto garbage_cert = DtlsCertificate::load_pem(garbage_path, key_path);
  ASSERT_FALSE(garbage_cert);
  EXPECT_NE(garbage_cert.error().find(garbage_path), std::string::npos) << garbage_cert.error();
  auto missing_key = DtlsCertificate::load_pem(cert_path, missing_path);
  ASSERT_FALSE(missing_key);
  EXPECT_NE(missing_key.error().find(missing_path), std::string::npos) << missing_key.error();
  auto key_is_a_certificate = DtlsCertificate::load_pem(cert_path, cert_path);
  ASSERT_FALSE(key_is_a_certificate);
  EXPECT_NE(key_is_a_certificate.error().find("key"), std::string::npos) << key_is_a_certificate.error();
  auto wrong_key = DtlsCertificate::load_pem(cert_path, other_key_path);
  ASSERT_FALSE(wrong_key);
  EXPECT_NE(wrong_key.error().find(other_key_path), std::string::npos) << wrong_key.error();
  EXPECT_NE(wrong_key.error().find("does not match"), std::string::npos) << wrong_key.error();
}

TEST(DtlsFingerprintAttribute, FormatsAndParsesBack) {
  const auto certificate = generate_or_abort();
  const std::string value = format_fingerprint_attribute(certificate);
  EXPECT_EQ(value, "sha-256 " + certificate.fingerprint_sha256());
  const auto parsed = parse_fingerprint_attribute(value);
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(std::equal(parsed->begin(), parsed->end(), certificate.fingerprint_bytes().begin()));
  EXPECT_EQ(parsed->size(), kSha256Length);
}

// RFC 8122 §5's example shape, as browsers write it.
constexpr const char* kHex =
    "19:E2:1C:3B:4B:9F:81:E6:B8:5C:F4:A5:A8:D8:73:04:BB:05:2F:70:9F:04:A9:0E:05:E9:26:33:E8:70:88:A2";

TEST(DtlsFingerprintAttribute, AcceptsAnyCaseOfHashNameAndHexDigits) {
  const auto upper = parse_fingerprint_attribute(attribute_of(kHex));
  ASSERT_TRUE(upper);
  EXPECT_EQ((*upper)[0], 0x19);
  EXPECT_EQ((*upper)[31], 0xA2);
  std::string lower_hex = kHex;
  for (char& c : lower_hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_EQ(parse_fingerprint_attribute("SHA-256 " + lower_hex), upper);
  EXPECT_EQ(parse_fingerprint_attribute(std::string("Sha-256 ") + kHex + " "), upper) << "trailing space";
}

TEST(DtlsFingerprintAttribute, RejectsOtherHashFunctions) {
  EXPECT_FALSE(parse_fingerprint_attribute(std::string("sha-1 ") + kHex));
  EXPECT_FALSE(parse_fingerprint_attribute(std::string("sha-512 ") + kHex));
  EXPECT_FALSE(parse_fingerprint_attribute(std::string("sha256 ") + kHex));
  EXPECT_FALSE(parse_fingerprint_attribute(std::string("sha-1 ") +
                                           "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01"));
}

TEST(DtlsFingerprintAttribute, RejectsWrongLength) {
  const std::string hex = kHex;
  EXPECT_FALSE(parse_fingerprint_attribute(attribute_of(hex.substr(0, hex.size() - 3))));  // 31 octets
  EXPECT_FALSE(parse_fingerprint_attribute(attribute_of(hex + ":00")));                    // 33 octets
  EXPECT_FALSE(parse_fingerprint_attribute(attribute_of(hex.substr(0, hex.size() - 1))));  // half an octet
  EXPECT_FALSE(parse_fingerprint_attribute("sha-256 "));
  EXPECT_FALSE(parse_fingerprint_attribute("sha-256"));
  EXPECT_FALSE(parse_fingerprint_attribute(""));
  EXPECT_FALSE(parse_fingerprint_attribute(attribute_of(hex) + std::string(kMaxFingerprintAttributeLength, ' ')));
}

TEST(DtlsFingerprintAttribute, RejectsOddCharacters) {
  std::string hex = kHex;
  const auto with = [&](std::size_t at, char c) {
    std::string changed = hex;
    changed[at] = c;
    return attribute_of(changed);
  };
  EXPECT_FALSE(parse_fingerprint_attribute(with(0, 'G')));
  EXPECT_FALSE(parse_fingerprint_attribute(with(1, ' ')));
  EXPECT_FALSE(parse_fingerprint_attribute(with(2, '-')));  // separator must be ':'
  EXPECT_FALSE(parse_fingerprint_attribute(with(2, '0')));
  EXPECT_FALSE(parse_fingerprint_attribute(with(94, '\0')));
  EXPECT_FALSE(parse_fingerprint_attribute(std::string("sha-256  ") + kHex)) << "two spaces shift the digits";
  EXPECT_FALSE(parse_fingerprint_attribute(std::string("sha-256\t") + kHex));
  std::string no_colons(64, 'A');
  EXPECT_FALSE(parse_fingerprint_attribute(attribute_of(no_colons)));
}

}  // namespace dtls_certificate_test
}  // namespace chorus::media::dtls
