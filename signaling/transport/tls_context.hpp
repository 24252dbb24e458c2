// TLS contexts for SIP over TLS (RFC 3261 §26.2.1, RFC 5630 for the sips model): TLS 1.2 or newer.
// The server context carries the configured certificate chain and key; the client context, used
// for outgoing TLS requests, does not verify the peer (see stream_connection.cpp for why).
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <expected>
#include <memory>
#include <string>

namespace chorus::sip {

// Loads a PEM certificate chain and private key. The error names the file and what is wrong with
// it (unreadable, not PEM, key does not match the certificate).
std::expected<std::shared_ptr<boost::asio::ssl::context>, std::string> make_server_tls_context(
    const std::string& cert_file, const std::string& key_file);

std::expected<std::shared_ptr<boost::asio::ssl::context>, std::string> make_client_tls_context();

}  // namespace chorus::sip
