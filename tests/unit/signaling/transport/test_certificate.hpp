// A throwaway self-signed certificate for IP 127.0.0.1, made with the OpenSSL API in a temporary
// directory: what the TLS and WSS tests serve, and what their clients trust as the only CA.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

namespace chorus::sip::testing {

// A self-signed CA certificate for IP 127.0.0.1 and its key, in a temporary directory.
class TestCertificate {
 public:
  TestCertificate() {
    // mkdtemp(3) replaces the six trailing X's of its template with a unique name.
    std::string pattern = (std::filesystem::temp_directory_path() / "chorus-tls-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) return;
    dir_ = pattern;
    cert_ = dir_ / "cert.pem";
    key_ = dir_ / "key.pem";
    ok_ = generate();
  }
  ~TestCertificate() {
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }
  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] std::string cert() const { return cert_.string(); }
  [[nodiscard]] std::string key() const { return key_.string(); }

 private:
  bool add_extension(X509* x509, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x509, x509, nullptr, nullptr, 0);
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (extension == nullptr) return false;
    const bool added = X509_add_ext(x509, extension, -1) == 1;
    X509_EXTENSION_free(extension);
    return added;
  }

  bool generate() {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
    std::unique_ptr<X509, decltype(&X509_free)> x509(X509_new(), &X509_free);
    if (!key || !x509) return false;
    X509_set_version(x509.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x509.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(x509.get()), -60);
    X509_gmtime_adj(X509_getm_notAfter(x509.get()), 3600);
    X509_set_pubkey(x509.get(), key.get());
    X509_NAME* name = X509_get_subject_name(x509.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("chorus test"), -1, -1,
                               0);
    X509_set_issuer_name(x509.get(), name);
    if (!add_extension(x509.get(), NID_basic_constraints, "critical,CA:TRUE") ||
        !add_extension(x509.get(), NID_subject_alt_name, "IP:127.0.0.1")) {
      return false;
    }
    if (X509_sign(x509.get(), key.get(), EVP_sha256()) == 0) return false;
    return write_pem(cert_, [&](FILE* f) { return PEM_write_X509(f, x509.get()) == 1; }) &&
           write_pem(key_, [&](FILE* f) {
             return PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
           });
  }

  template <typename Write>
  static bool write_pem(const std::filesystem::path& path, Write write) {
    FILE* file = std::fopen(path.c_str(), "w");
    if (file == nullptr) return false;
    const bool written = write(file);
    return std::fclose(file) == 0 && written;
  }

  std::filesystem::path dir_, cert_, key_;
  bool ok_ = false;
};

}  // namespace chorus::sip::testing
