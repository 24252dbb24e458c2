// TransportLayer over TLS (RFC 3261 §26.2.1): a throwaway self-signed certificate made with the
// OpenSSL API, a test client that verifies it as its CA, and layer-to-layer requests.
#include <gtest/gtest.h>

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <memory>

#include "signaling/transport/transport_layer.hpp"
#include "tests/unit/signaling/transport/test_certificate.hpp"
#include "tests/unit/signaling/transport/transport_test_support.hpp"

namespace chorus::sip {
namespace tls_transport_test {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using testing::kLoopback;
using testing::options_request;
using testing::RecordingListener;
using testing::run_until;
using testing::TestCertificate;

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

}  // namespace tls_transport_test
}  // namespace chorus::sip
