// TransportLayer over TLS (RFC 3261 §26.2.1): a throwaway self-signed certificate made with the
// OpenSSL API, a test client that verifies it as its CA, and layer-to-layer requests.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "signaling/transport/transport_layer.hpp"
#include "tests/unit/signaling/transport/transport_test_support.hpp"

namespace chorus::sip {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using testing::kLoopback;
using testing::options_request;
using testing::RecordingListener;
using testing::run_until;

// A self-signed CA certificate for IP 127.0.0.1 and its key, in a temporary directory.
class TestCertificate {
 public:
  TestCertificate() {
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

// A TLS client that trusts only the test certificate and checks that it names 127.0.0.1.
class VerifyingTlsPeer {
 public:
  VerifyingTlsPeer(asio::io_context& io, std::uint16_t port, const std::string& ca_file)
      : context_(ssl::context::tls_client), stream_(io, context_) {
    context_.load_verify_file(ca_file);
    stream_.set_verify_mode(ssl::verify_peer);
    stream_.set_verify_callback(ssl::host_name_verification("127.0.0.1"));
    stream_.next_layer().connect(tcp::endpoint(kLoopback, port));
    stream_.async_handshake(ssl::stream_base::client, [this](const boost::system::error_code& ec) {
      if (ec == asio::error::operation_aborted) return;
      handshake_error = ec;
      handshaken = true;
      if (!ec) receive();
    });
  }
  void write(std::string text) {
    pending_ = std::move(text);
    asio::async_write(stream_, asio::buffer(pending_), [this](const boost::system::error_code& ec, std::size_t) {
      if (ec == asio::error::operation_aborted) return;
      written = !ec;
    });
  }
  bool handshaken = false;
  boost::system::error_code handshake_error;
  bool written = false;
  std::string received;

 private:
  void receive() {
    stream_.async_read_some(asio::buffer(buffer_), [this](const boost::system::error_code& ec, std::size_t n) {
      if (ec) return;
      received.append(buffer_.data(), n);
      receive();
    });
  }
  ssl::context context_;
  ssl::stream<tcp::socket> stream_;
  std::string pending_;
  std::array<char, 16384> buffer_{};
};

class TlsTransportTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(certificate_.ok()) << "could not generate a test certificate"; }

  TransportConfig tls_config() const {
    TransportConfig config;
    config.bind_address = "127.0.0.1";
    config.public_address = "127.0.0.1";
    config.udp_port = 0;
    config.tcp_port = 0;
    config.tls_port = 0;
    config.tls_cert_file = certificate_.cert();
    config.tls_key_file = certificate_.key();
    return config;
  }

  TestCertificate certificate_;
  asio::io_context io_;
  RecordingListener listener_;
};

TEST_F(TlsTransportTest, AnswersAVerifyingClientOverTheSameTlsConnection) {
  TransportLayer layer(io_, tls_config(), listener_);
  ASSERT_TRUE(layer.start().has_value());
  ASSERT_TRUE(layer.tls_port().has_value());
  EXPECT_EQ(layer.via_sent_by(TransportKind::kTls), "127.0.0.1:" + std::to_string(*layer.tls_port()));

  VerifyingTlsPeer peer(io_, *layer.tls_port(), certificate_.cert());
  ASSERT_TRUE(run_until(io_, [&] { return peer.handshaken; }));
  ASSERT_FALSE(peer.handshake_error) << peer.handshake_error.message();
  peer.write(options_request("SIP/2.0/TLS 192.0.2.10:5061;branch=z9hG4bKtls;rport"));
  ASSERT_TRUE(run_until(io_, [&] { return listener_.messages.size() == 1; }));

  const auto& [request, source] = listener_.messages.front();
  EXPECT_EQ(source.kind, TransportKind::kTls);
  EXPECT_NE(source.connection, 0u);
  ASSERT_TRUE(layer.send_response(make_response(request, 200, "totag"), source));
  ASSERT_TRUE(run_until(io_, [&] { return peer.received.find("\r\n\r\n") != std::string::npos; }));
  EXPECT_TRUE(peer.received.starts_with("SIP/2.0 200")) << peer.received;
}

TEST_F(TlsTransportTest, CarriesARequestAndItsResponseBetweenTwoLayers) {
  RecordingListener client_listener;
  TransportLayer server(io_, tls_config(), listener_);
  TransportLayer client(io_, tls_config(), client_listener);
  ASSERT_TRUE(server.start().has_value());
  ASSERT_TRUE(client.start().has_value());

  SipMessage request;
  request.method = "OPTIONS";
  request.request_uri_text = "sips:1000@127.0.0.1";
  request.add_header("Via", "SIP/2.0/TLS " + client.via_sent_by(TransportKind::kTls) + ";branch=z9hG4bKl2l;rport");
  request.add_header("Max-Forwards", "70");
  request.add_header("From", "<sips:a@127.0.0.1>;tag=1");
  request.add_header("To", "<sips:1000@127.0.0.1>");
  request.add_header("Call-ID", "layer-to-layer");
  request.add_header("CSeq", "1 OPTIONS");
  ASSERT_TRUE(client.send_request(request, PeerAddress{TransportKind::kTls, kLoopback, *server.tls_port(), 0}));
  ASSERT_TRUE(run_until(io_, [&] { return listener_.messages.size() == 1; }));
  const auto& [received, source] = listener_.messages.front();
  EXPECT_EQ(received.call_id, "layer-to-layer");
  EXPECT_EQ(source.kind, TransportKind::kTls);

  ASSERT_TRUE(server.send_response(make_response(received, 200, "totag"), source));
  ASSERT_TRUE(run_until(io_, [&] { return client_listener.messages.size() == 1; }));
  EXPECT_FALSE(client_listener.messages.front().message.is_request);
  EXPECT_EQ(client_listener.messages.front().message.status, 200);
  EXPECT_EQ(client.connection_count(), 1u);
}

TEST_F(TlsTransportTest, ClosesAConnectionThatDoesNotHandshakeInTime) {
  auto config = tls_config();
  config.handshake_timeout = std::chrono::milliseconds(200);
  TransportLayer layer(io_, config, listener_);
  ASSERT_TRUE(layer.start().has_value());
  testing::TcpPeer silent(io_, *layer.tls_port());
  ASSERT_TRUE(run_until(io_, [&] { return silent.closed; }));
  EXPECT_EQ(layer.counters().dropped(DropReason::kTlsHandshake), 1u);
  EXPECT_EQ(layer.connection_count(), 0u);
}

TEST_F(TlsTransportTest, RejectsPlainSipOnTheTlsPort) {
  TransportLayer layer(io_, tls_config(), listener_);
  ASSERT_TRUE(layer.start().has_value());
  testing::TcpPeer plain(io_, *layer.tls_port());
  plain.write(options_request("SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKplain"));
  ASSERT_TRUE(run_until(io_, [&] { return plain.closed; }));
  EXPECT_TRUE(listener_.messages.empty());
  EXPECT_EQ(layer.counters().dropped(DropReason::kTlsHandshake), 1u);
}

TEST_F(TlsTransportTest, StartNamesAnUnreadableCertificate) {
  auto config = tls_config();
  config.tls_cert_file = "/nonexistent/chorus-cert.pem";
  TransportLayer layer(io_, config, listener_);
  const auto started = layer.start();
  ASSERT_FALSE(started.has_value());
  EXPECT_NE(started.error().find("/nonexistent/chorus-cert.pem"), std::string::npos) << started.error();
  EXPECT_EQ(layer.udp_port(), 0);  // nothing stays open
}

TEST_F(TlsTransportTest, StartRefusesACertificateWithoutKey) {
  auto config = tls_config();
  config.tls_key_file.clear();
  TransportLayer layer(io_, config, listener_);
  EXPECT_FALSE(layer.start().has_value());
}

TEST_F(TlsTransportTest, TlsIsOffWithoutACertificate) {
  auto config = tls_config();
  config.tls_cert_file.clear();
  config.tls_key_file.clear();
  TransportLayer layer(io_, config, listener_);
  ASSERT_TRUE(layer.start().has_value());
  EXPECT_FALSE(layer.tls_port().has_value());
  EXPECT_FALSE(layer.send_request(SipMessage{}, PeerAddress{TransportKind::kTls, kLoopback, 5061, 0}));
}

}  // namespace
}  // namespace chorus::sip
