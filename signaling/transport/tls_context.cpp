#include "signaling/transport/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <exception>
#include <fstream>

namespace chorus::sip {

namespace ssl = boost::asio::ssl;

namespace {

// The most recent OpenSSL error as text; asio's error_code messages for these are often bare.
std::string openssl_error(const boost::system::error_code& ec) {
  std::string text = ec.message();
  if (const unsigned long code = ERR_peek_last_error(); code != 0) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    text += " (";
    text += buffer;
    text += ')';
  }
  ERR_clear_error();
  return text;
}

// RFC 8996 deprecates TLS 1.0 and 1.1; SIP over TLS here starts at 1.2.
std::expected<std::shared_ptr<ssl::context>, std::string> make_context(ssl::context::method method) {
  try {
    auto context = std::make_shared<ssl::context>(method);
    if (SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION) != 1) {
      return std::unexpected("cannot require TLS 1.2");
    }
    context->set_options(ssl::context::default_workarounds | ssl::context::no_compression);
    return context;
  } catch (const std::exception& e) {
    return std::unexpected(std::string("TLS context: ") + e.what());
  }
}

}  // namespace

std::expected<std::shared_ptr<ssl::context>, std::string> make_server_tls_context(const std::string& cert_file,
                                                                                  const std::string& key_file) {
  // Check readability first: OpenSSL's "system lib" error does not say which file.
  for (const std::string* file : {&cert_file, &key_file}) {
    if (!std::ifstream(*file).good()) return std::unexpected("TLS: cannot read " + *file);
  }
  auto context = make_context(ssl::context::tls_server);
  if (!context) return context;
  boost::system::error_code ec;
  (*context)->use_certificate_chain_file(cert_file, ec);
  if (ec) return std::unexpected("TLS certificate " + cert_file + ": " + openssl_error(ec));
  (*context)->use_private_key_file(key_file, ssl::context::pem, ec);
  if (ec) return std::unexpected("TLS key " + key_file + ": " + openssl_error(ec));
  if (SSL_CTX_check_private_key((*context)->native_handle()) != 1) {
    ERR_clear_error();
    return std::unexpected("TLS key " + key_file + " does not match certificate " + cert_file);
  }
  return context;
}

std::expected<std::shared_ptr<ssl::context>, std::string> make_client_tls_context() {
  auto context = make_context(ssl::context::tls_client);
  if (!context) return context;
  (*context)->set_verify_mode(ssl::verify_none);
  return context;
}

}  // namespace chorus::sip
