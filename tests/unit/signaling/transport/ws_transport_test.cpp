// TransportLayer over WebSocket (RFC 7118), on real loopback sockets with a Boost.Beast client: the
// upgrade and its refusals (RFC 6455 §4.2, RFC 7118 §4, Origin), one SIP message per WebSocket
// message and responses over the same connection (RFC 7118 §5), and the ingress limits (message
// size → 1009, handshake deadline, idle timeout, connections per IP).
#include <gtest/gtest.h>

#include <boost/beast/websocket/rfc6455.hpp>
#include <memory>
#include <string>

#include "signaling/transport/transport_layer.hpp"
#include "signaling/transport/via_routing.hpp"
#include "tests/unit/signaling/transport/transport_test_support.hpp"
#include "tests/unit/signaling/transport/ws_test_support.hpp"

namespace chorus::sip {
namespace ws_transport_test {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using testing::options_request;
using testing::RecordingListener;
using testing::run_until;
using testing::TcpPeer;
using testing::WsClient;
using testing::WsClientOptions;

// RFC 7118 §5.2: a browser does not know its address, so its Via names an invalid host.
constexpr std::string_view kWsVia = "SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKasudf;rport";
constexpr std::string_view kAllowedOrigin = "https://rooms.example.com";

TransportConfig ws_config() {
  TransportConfig config;
  config.bind_address = "127.0.0.1";
  config.public_address = "127.0.0.1";
  config.udp_port = 0;
  config.tcp_port = 0;
  config.ws_port = 0;
  config.ws_allowed_origins = {std::string(kAllowedOrigin)};
  return config;
}

// A request of ours into the dialog the browser opened, with our WS Via.
SipMessage request_to_browser(const TransportLayer& layer, std::string call_id) {
  SipMessage request;
  request.method = "OPTIONS";
  request.request_uri_text = "sip:browser@df7jal23ls0d.invalid;transport=ws";
  request.add_header("Via", "SIP/2.0/WS " + layer.via_sent_by(TransportKind::kWs) + ";branch=z9hG4bK" + call_id);
  request.add_header("Max-Forwards", "70");
  request.add_header("From", "<sip:chorus@127.0.0.1>;tag=ours");
  request.add_header("To", "<sip:browser@df7jal23ls0d.invalid>");
  request.add_header("Call-ID", std::move(call_id));
  request.add_header("CSeq", "1 OPTIONS");
  return request;
}

class WsTransportTest : public ::testing::Test {
 protected:
  void start(TransportConfig config = ws_config()) {
    layer_ = std::make_unique<TransportLayer>(io_, std::move(config), listener_);
    auto started = layer_->start();
    ASSERT_TRUE(started.has_value()) << started.error();
    ASSERT_TRUE(layer_->ws_port().has_value());
  }
  [[nodiscard]] std::uint16_t port() const { return *layer_->ws_port(); }
  bool upgraded(WsClient& client) {
    return run_until(io_, [&] { return client.finished_upgrade; }) && !client.upgrade_error;
  }
  std::uint64_t dropped(DropReason reason) const { return layer_->counters().dropped(reason); }

  asio::io_context io_;
  RecordingListener listener_;
  std::unique_ptr<TransportLayer> layer_;
};

TEST_F(WsTransportTest, DeliversAnOptionsWithItsConnectionAndAnswersOverIt) {
  start();
  WsClient client(io_, port());  // no Origin: a SIP UA that is not a browser
  ASSERT_TRUE(upgraded(client)) << client.upgrade_error.message();
  EXPECT_EQ(client.response.result(), http::status::switching_protocols);
  EXPECT_EQ(client.response[http::field::sec_websocket_protocol], "sip");  // RFC 7118 §4

  client.write(options_request(kWsVia, "ws-options"));
  ASSERT_TRUE(run_until(io_, [&] { return listener_.messages.size() == 1; }));
  const auto& [request, source] = listener_.messages.front();
  EXPECT_EQ(request.call_id, "ws-options");
  EXPECT_EQ(source.kind, TransportKind::kWs);
  EXPECT_NE(source.connection, 0u);
  EXPECT_EQ(source.port, client.local_port());
  // RFC 3581 §4 as for TCP: the `.invalid` host gets received and rport.
  EXPECT_EQ(find_param(request.vias[0].params, "received")->value, "127.0.0.1");
  EXPECT_EQ(find_param(request.vias[0].params, "rport")->value, std::to_string(client.local_port()));

  ASSERT_TRUE(layer_->send_response(make_response(request, 200, "totag"), source));
  ASSERT_TRUE(run_until(io_, [&] { return client.messages.size() == 1; }));
  EXPECT_TRUE(client.messages[0].starts_with("SIP/2.0 200")) << client.messages[0];
  EXPECT_FALSE(client.binary[0]);  // UTF-8 text goes in a text frame (RFC 7118 §5.1)
  EXPECT_EQ(layer_->counters().ws_upgrades, 1u);
  EXPECT_EQ(layer_->counters().ws_messages_received, 1u);
  EXPECT_EQ(layer_->connection_count(), 1u);
}

TEST_F(WsTransportTest, SendsARequestOverTheFlowAndTakesTheAnswerBack) {
  start();
  EXPECT_EQ(layer_->via_sent_by(TransportKind::kWs), "127.0.0.1:" + std::to_string(port()));
  WsClient client(io_, port());
  ASSERT_TRUE(upgraded(client));
  client.write(options_request(kWsVia));
  ASSERT_TRUE(run_until(io_, [&] { return listener_.messages.size() == 1; }));
  const PeerAddress flow = listener_.messages.front().source;

  // What Dialog::flow() hands the UA for an in-dialog request (RFC 5626-style flow reuse).
  const SipMessage ours = request_to_browser(*layer_, "to-browser");
  ASSERT_TRUE(layer_->send_request(ours, flow));
  ASSERT_TRUE(run_until(io_, [&] { return client.count_containing("Call-ID: to-browser") == 1; }));
  EXPECT_EQ(layer_->counters().connections_opened, 0u);

  // The browser's 200 carries our Via back: it is ours, so it goes up.
  auto parsed = parse_datagram(client.messages.back());
  ASSERT_TRUE(parsed.has_value());
  client.write(make_response(*parsed, 200, "theirs").serialize());
  ASSERT_TRUE(run_until(io_, [&] { return listener_.messages.size() == 2; }));
  EXPECT_FALSE(listener_.messages[1].message.is_request);
  EXPECT_EQ(listener_.messages[1].source.connection, flow.connection);
}

TEST_F(WsTransportTest, RefusesAnUpgradeThatDoesNotOfferSip) {
  start();
  // RFC 7936 §3: subprotocol names match case-sensitively, so "SIP" is not "sip".
  for (const char* offered : {"chat, superchat", "", "SIP"}) {
    WsClient client(io_, port(), WsClientOptions{.subprotocols = offered});
    ASSERT_TRUE(run_until(io_, [&] { return client.finished_upgrade; })) << offered;
    EXPECT_EQ(client.upgrade_error, boost::beast::websocket::error::upgrade_declined) << offered;
    EXPECT_EQ(client.response.result(), http::status::bad_request) << offered;
  }
  EXPECT_EQ(dropped(DropReason::kWsNoSipProtocol), 3u);
  EXPECT_EQ(layer_->counters().ws_upgrades, 0u);
  ASSERT_TRUE(run_until(io_, [&] { return layer_->connection_count() == 0; }));
}

TEST_F(WsTransportTest, RefusesAForeignOriginWith403) {
  start();
  WsClient client(io_, port(), WsClientOptions{.origin = "https://evil.example.net"});
  ASSERT_TRUE(run_until(io_, [&] { return client.finished_upgrade; }));
  EXPECT_EQ(client.upgrade_error, boost::beast::websocket::error::upgrade_declined);
  EXPECT_EQ(client.response.result(), http::status::forbidden);
  EXPECT_EQ(dropped(DropReason::kWsOriginRefused), 1u);
  ASSERT_TRUE(run_until(io_, [&] { return layer_->connection_count() == 0; }));
}

TEST_F(WsTransportTest, AcceptsAnAllowedOriginWrittenDifferently) {
  start();
  // RFC 6454 §5: scheme and host compare case-insensitively, and 443 is https's default port.
  WsClient client(io_, port(), WsClientOptions{.origin = "HTTPS://Rooms.Example.com:443"});
  ASSERT_TRUE(upgraded(client)) << client.upgrade_error.message();
  client.write(options_request(kWsVia));
  ASSERT_TRUE(run_until(io_, [&] { return listener_.messages.size() == 1; }));
}

TEST_F(WsTransportTest, AnswersPlainHttpWith426) {
  start();
  TcpPeer peer(io_, port());
  peer.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/html\r\n\r\n");
  ASSERT_TRUE(run_until(io_, [&] { return peer.closed; }));
  EXPECT_TRUE(peer.received.starts_with("HTTP/1.1 426 Upgrade Required\r\n")) << peer.received;
  EXPECT_NE(peer.received.find("Upgrade: websocket\r\n"), std::string::npos) << peer.received;
  EXPECT_EQ(dropped(DropReason::kWsNotUpgrade), 1u);
}

TEST_F(WsTransportTest, ClosesBytesThatAreNotHttpWithoutAnAnswer) {
  start();
  TcpPeer peer(io_, port());
  peer.write(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http\r\n\r\n", 24));
  ASSERT_TRUE(run_until(io_, [&] { return peer.closed; }));
  EXPECT_TRUE(peer.received.empty()) << peer.received;
  EXPECT_EQ(dropped(DropReason::kWsNotHttp), 1u);
  EXPECT_TRUE(listener_.messages.empty());
}

TEST_F(WsTransportTest, ClosesWith1009OnAMessageOver64KiB) {
  start();
  WsClient client(io_, port());
  ASSERT_TRUE(upgraded(client));
  client.write(options_request(kWsVia, "huge", std::string(70 * 1024, 'x')));
  ASSERT_TRUE(run_until(io_, [&] { return client.closed; }));
  EXPECT_EQ(client.close_reason.code, boost::beast::websocket::close_code::too_big);  // RFC 6455 §7.4.1
  EXPECT_EQ(dropped(DropReason::kWsMessageTooBig), 1u);
  EXPECT_TRUE(listener_.messages.empty());
  ASSERT_TRUE(run_until(io_, [&] { return layer_->connection_count() == 0; }));
}

TEST_F(WsTransportTest, ClosesAClientThatNeverUpgrades) {
  auto config = ws_config();
  config.handshake_timeout = std::chrono::milliseconds(200);
  start(config);
  TcpPeer silent(io_, port());
  TcpPeer stalled(io_, port());
  stalled.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n");  // and never the end of the header block
  ASSERT_TRUE(run_until(io_, [&] { return silent.closed && stalled.closed; }));
  EXPECT_EQ(dropped(DropReason::kWsHandshakeTimeout), 2u);
  EXPECT_EQ(layer_->connection_count(), 0u);
}

TEST_F(WsTransportTest, ClosesAnIdleConnection) {
  auto config = ws_config();
  config.idle_timeout = std::chrono::milliseconds(200);
  start(config);
  WsClient client(io_, port());
  ASSERT_TRUE(upgraded(client));
  ASSERT_TRUE(run_until(io_, [&] { return client.closed; }));
  EXPECT_EQ(dropped(DropReason::kIdle), 1u);
  EXPECT_EQ(layer_->connection_count(), 0u);
}

TEST_F(WsTransportTest, CountsThePeersPingsAsActivity) {
  // The documented choice: a WebSocket ping keeps the connection, as any bytes do on TCP.
  auto config = ws_config();
  config.idle_timeout = std::chrono::milliseconds(1000);
  start(config);
  WsClient client(io_, port());
  ASSERT_TRUE(upgraded(client));
  for (std::size_t i = 1; i <= 15; ++i) {  // 1.5 s of pings, 100 ms apart: past the idle timeout
    client.ping();
    ASSERT_TRUE(run_until(io_, [&] { return client.pings_sent == i; }));
    testing::run_for(io_, std::chrono::milliseconds(100));
  }
  EXPECT_FALSE(client.closed);
  EXPECT_EQ(layer_->connection_count(), 1u);
  ASSERT_TRUE(run_until(io_, [&] { return client.closed; }));  // silent again: closed
  EXPECT_EQ(dropped(DropReason::kIdle), 1u);
}

TEST_F(WsTransportTest, DisconnectsPastTheWriteQueueLimit) {
  auto config = ws_config();
  config.max_write_queue_bytes = 16 * 1024;
  start(config);
  WsClient client(io_, port());
  ASSERT_TRUE(upgraded(client));
  client.write(options_request(kWsVia));
  ASSERT_TRUE(run_until(io_, [&] { return listener_.messages.size() == 1; }));
  const auto& [request, source] = listener_.messages.front();
  SipMessage response = make_response(request, 200, "totag");
  response.body = std::string(6000, 'a');
  // Three answers before the loop runs again: the first is being written, the third overflows.
  EXPECT_TRUE(layer_->send_response(response, source));
  EXPECT_TRUE(layer_->send_response(response, source));
  EXPECT_FALSE(layer_->send_response(response, source));
  EXPECT_EQ(dropped(DropReason::kWriteQueue), 1u);
  EXPECT_EQ(layer_->connection_count(), 0u);
  ASSERT_TRUE(run_until(io_, [&] { return client.closed; }));
}

TEST_F(WsTransportTest, ClosesUpgradesOverThePerIpCap) {
  auto config = ws_config();
  config.max_connections_per_ip = 2;
  start(config);
  WsClient first(io_, port());
  WsClient second(io_, port());
  ASSERT_TRUE(upgraded(first));
  ASSERT_TRUE(upgraded(second));
  WsClient third(io_, port());
  ASSERT_TRUE(run_until(io_, [&] { return third.finished_upgrade; }));
  EXPECT_TRUE(third.upgrade_error);
  EXPECT_EQ(dropped(DropReason::kPerIpCap), 1u);
  EXPECT_EQ(layer_->connection_count(), 2u);
  first.write(options_request(kWsVia));  // the two within the cap still work
  ASSERT_TRUE(run_until(io_, [&] { return listener_.messages.size() == 1; }));
}

TEST_F(WsTransportTest, ARequestToAClosedFlowFailsAndIsCounted) {
  start();
  PeerAddress flow;
  {
    WsClient client(io_, port());
    ASSERT_TRUE(upgraded(client));
    client.write(options_request(kWsVia));
    ASSERT_TRUE(run_until(io_, [&] { return listener_.messages.size() == 1; }));
    flow = listener_.messages.front().source;
  }
  ASSERT_TRUE(run_until(io_, [&] { return layer_->connection_count() == 0; }));
  EXPECT_FALSE(layer_->send_request(request_to_browser(*layer_, "late"), flow));
  // Nor does the response go anywhere by its Via: the host is `.invalid` (RFC 7118 §5.2).
  EXPECT_FALSE(layer_->send_response(make_response(listener_.messages.front().message, 200, "t"), flow));
  // A WS destination without a connection is never dialled.
  EXPECT_FALSE(layer_->send_request(request_to_browser(*layer_, "nowhere"),
                                    PeerAddress{TransportKind::kWs, testing::kLoopback, port(), 0}));
  EXPECT_EQ(dropped(DropReason::kWsNoConnection), 3u);
  EXPECT_EQ(layer_->counters().connections_opened, 0u);
  EXPECT_EQ(layer_->connection_count(), 0u);
}

TEST_F(WsTransportTest, AnswersADoubleCrlfPingWithCrlf) {
  start();
  WsClient client(io_, port());
  ASSERT_TRUE(upgraded(client));
  client.write("\r\n\r\n");
  ASSERT_TRUE(run_until(io_, [&] { return client.messages.size() == 1; }));
  EXPECT_EQ(client.messages[0], "\r\n");
  EXPECT_EQ(layer_->counters().keepalives, 1u);
  EXPECT_TRUE(listener_.bad.empty());
}

TEST_F(WsTransportTest, TakesBinaryFramesAndSendsNonUtf8AsBinary) {
  start();
  WsClient client(io_, port());
  ASSERT_TRUE(upgraded(client));
  client.write(options_request(kWsVia, "binary-in"), /*binary=*/true);
  ASSERT_TRUE(run_until(io_, [&] { return listener_.messages.size() == 1; }));
  const auto& [request, source] = listener_.messages.front();
  SipMessage response = make_response(request, 200, "totag");
  response.body = "\xff\xfe binary body";  // RFC 6455 §5.6: not UTF-8, so not a text frame
  ASSERT_TRUE(layer_->send_response(response, source));
  ASSERT_TRUE(run_until(io_, [&] { return client.messages.size() == 1; }));
  EXPECT_TRUE(client.binary[0]);
}

TEST_F(WsTransportTest, HandsUpAMessageThatDoesNotParse) {
  start();
  WsClient client(io_, port());
  ASSERT_TRUE(upgraded(client));
  client.write("OPTIONS sip:1000@127.0.0.1 SIP/2.0\r\nVia: " + std::string(kWsVia) + "\r\n\r\n");  // no To, From...
  ASSERT_TRUE(run_until(io_, [&] { return listener_.bad.size() == 1; }));
  EXPECT_EQ(listener_.bad.front().second.kind, TransportKind::kWs);
  EXPECT_EQ(layer_->counters().bad_messages, 1u);
  EXPECT_EQ(layer_->connection_count(), 1u);  // one bad message does not end the connection
}

TEST_F(WsTransportTest, StopClosesEveryWebSocket) {
  start();
  WsClient client(io_, port());
  ASSERT_TRUE(upgraded(client));
  layer_->stop();
  EXPECT_EQ(layer_->connection_count(), 0u);
  EXPECT_FALSE(layer_->ws_port().has_value());
  ASSERT_TRUE(run_until(io_, [&] { return client.closed; }));
}

TEST_F(WsTransportTest, IsOffUnlessAPortIsGiven) {
  TransportConfig config = ws_config();
  config.ws_port.reset();
  TransportLayer layer(io_, config, listener_);
  ASSERT_TRUE(layer.start().has_value());
  EXPECT_FALSE(layer.ws_port().has_value());
  EXPECT_EQ(layer.via_sent_by(TransportKind::kWs), "");
  EXPECT_FALSE(layer.send_request(SipMessage{}, PeerAddress{TransportKind::kWs, testing::kLoopback, 5066, 1}));
}

TEST_F(WsTransportTest, StartNamesAnAllowedOriginThatIsNotOne) {
  TransportConfig config = ws_config();
  config.ws_allowed_origins = {"https://ok.example.com", "https://bad.example.com/path"};
  TransportLayer layer(io_, config, listener_);
  const auto started = layer.start();
  ASSERT_FALSE(started.has_value());
  EXPECT_NE(started.error().find("https://bad.example.com/path"), std::string::npos) << started.error();
  EXPECT_EQ(layer.udp_port(), 0);  // nothing stays open
}

}  // namespace ws_transport_test
}  // namespace chorus::sip
