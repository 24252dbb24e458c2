// TransportLayer over secure WebSocket (RFC 7118 §3, WSS): the SIPS certificate serves WSS too; a
// client that verifies it as its only CA upgrades and exchanges SIP; WSS stays off without one.
#include <gtest/gtest.h>

#include <memory>

#include "signaling/transport/transport_layer.hpp"
#include "tests/unit/signaling/transport/test_certificate.hpp"
#include "tests/unit/signaling/transport/transport_test_support.hpp"
#include "tests/unit/signaling/transport/ws_test_support.hpp"

namespace chorus::sip {
namespace wss_transport_test {

namespace asio = boost::asio;
using testing::options_request;
using testing::RecordingListener;
using testing::run_until;
using testing::TestCertificate;
using testing::WsClientOptions;
using testing::WssClient;

class WssTransportTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(certificate_.ok()) << "could not generate a test certificate"; }

  TransportConfig wss_config() const {
    TransportConfig config;
    config.bind_address = "127.0.0.1";
    config.public_address = "127.0.0.1";
    config.udp_port = 0;
    config.tcp_port = 0;
    config.tls_port = 0;
    config.wss_port = 0;
    config.tls_cert_file = certificate_.cert();
    config.tls_key_file = certificate_.key();
    return config;
  }

  TestCertificate certificate_;
  asio::io_context io_;
  RecordingListener listener_;
};

TEST_F(WssTransportTest, AVerifyingClientUpgradesAndIsAnsweredOverTheSameConnection) {
  TransportLayer layer(io_, wss_config(), listener_);
  ASSERT_TRUE(layer.start().has_value());
  ASSERT_TRUE(layer.wss_port().has_value());
  EXPECT_FALSE(layer.ws_port().has_value());
  EXPECT_EQ(layer.via_sent_by(TransportKind::kWss), "127.0.0.1:" + std::to_string(*layer.wss_port()));

  WssClient client(io_, *layer.wss_port(), WsClientOptions{.ca_file = certificate_.cert()});
  ASSERT_TRUE(run_until(io_, [&] { return client.finished_upgrade; }));
  ASSERT_FALSE(client.upgrade_error) << client.upgrade_error.message();
  client.write(options_request("SIP/2.0/WSS ab12cd34.invalid;branch=z9hG4bKwss;rport", "over-wss"));
  ASSERT_TRUE(run_until(io_, [&] { return listener_.messages.size() == 1; }));

  const auto& [request, source] = listener_.messages.front();
  EXPECT_EQ(request.call_id, "over-wss");
  EXPECT_EQ(source.kind, TransportKind::kWss);
  EXPECT_NE(source.connection, 0u);
  ASSERT_TRUE(layer.send_response(make_response(request, 200, "totag"), source));
  ASSERT_TRUE(run_until(io_, [&] { return client.messages.size() == 1; }));
  EXPECT_TRUE(client.messages[0].starts_with("SIP/2.0 200")) << client.messages[0];
  EXPECT_EQ(layer.counters().ws_upgrades, 1u);
}

TEST_F(WssTransportTest, PlainBytesOnTheWssPortFailTheTlsHandshake) {
  TransportLayer layer(io_, wss_config(), listener_);
  ASSERT_TRUE(layer.start().has_value());
  testing::TcpPeer plain(io_, *layer.wss_port());
  plain.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
  ASSERT_TRUE(run_until(io_, [&] { return plain.closed; }));
  EXPECT_EQ(layer.counters().dropped(DropReason::kTlsHandshake), 1u);
  EXPECT_EQ(layer.counters().ws_upgrades, 0u);
}

TEST_F(WssTransportTest, WssIsOffWithoutACertificate) {
  auto config = wss_config();
  config.tls_cert_file.clear();
  config.tls_key_file.clear();
  TransportLayer layer(io_, config, listener_);
  ASSERT_TRUE(layer.start().has_value());
  EXPECT_FALSE(layer.wss_port().has_value());
  EXPECT_EQ(layer.via_sent_by(TransportKind::kWss), "");
}

}  // namespace wss_transport_test
}  // namespace chorus::sip
