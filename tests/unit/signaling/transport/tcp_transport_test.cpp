// TransportLayer over TCP, on real loopback sockets (RFC 3261 §18.2.2, §18.3; RFC 5626 §4.4.1), and
// the ingress limits (connections per IP, idle timeout, message size, write queue).
#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>

#include "signaling/transport/transport_layer.hpp"
#include "tests/unit/signaling/transport/transport_test_support.hpp"

namespace chorus::sip {
namespace tcp_transport_test {

namespace asio = boost::asio;
using asio::ip::tcp;
using testing::kLoopback;
using testing::options_request;
using testing::RecordingListener;
using testing::run_until;
using testing::TcpPeer;

constexpr std::string_view kTcpVia = "SIP/2.0/TCP 192.0.2.10:5070;branch=z9hG4bK776asdhds;rport";

TransportConfig loopback_config() {
  TransportConfig config;
  config.bind_address = "127.0.0.1";
  config.public_address = "127.0.0.1";
  config.udp_port = 0;
  config.tcp_port = 0;
  return config;
}

SipMessage outgoing_request(const TransportLayer& layer, std::string call_id, std::string body = {}) {
  SipMessage request;
  request.method = "OPTIONS";
  request.request_uri_text = "sip:peer@127.0.0.1";
  request.add_header("Via", "SIP/2.0/TCP " + layer.via_sent_by(TransportKind::kTcp) + ";branch=z9hG4bK" + call_id);
  request.add_header("Call-ID", std::move(call_id));
  request.add_header("CSeq", "1 OPTIONS");
  request.body = std::move(body);
  return request;
}

// A listening socket in the test that accepts connections from the layer.
class TestAcceptor {
 public:
  explicit TestAcceptor(asio::io_context& io) : acceptor_(io, tcp::endpoint(kLoopback, 0)) { accept(); }
  [[nodiscard]] std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::vector<std::unique_ptr<TcpPeer>> peers;

 private:
  void accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
      if (ec) return;
      peers.push_back(std::make_unique<TcpPeer>(std::move(socket)));
      accept();
    });
  }
  tcp::acceptor acceptor_;
};

class TcpTransportTest : public ::testing::Test {
 protected:
  void start(TransportConfig config = loopback_config()) {
    layer_ = std::make_unique<TransportLayer>(io_, std::move(config), listener_);
    ASSERT_TRUE(layer_->start().has_value());
  }

  boost::asio::io_context io_;
  RecordingListener listener_;
  std::unique_ptr<TransportLayer> layer_;
};

TEST_F(TcpTransportTest, DeliversAMessageSplitAcrossWritesOnce) {
  start();
  TcpPeer peer(io_, layer_->tcp_port());
  const std::string request = options_request(kTcpVia, "split-1", "v=0\r\n");
  const std::size_t cut = request.size() / 2;
  peer.write(request.substr(0, cut));
  ASSERT_TRUE(run_until(io_, [&] { return layer_->connection_count() == 1; }));
  testing::run_for(io_, std::chrono::milliseconds(20));
  EXPECT_TRUE(listener_.messages.empty());
  peer.write(request.substr(cut));
  ASSERT_TRUE(run_until(io_, [&] { return listener_.messages.size() == 1; }));
  testing::run_for(io_, std::chrono::milliseconds(20));
  ASSERT_EQ(listener_.messages.size(), 1u);

  const auto& [message, source] = listener_.messages.front();
  EXPECT_EQ(message.call_id, "split-1");
  EXPECT_EQ(message.body, "v=0\r\n");
  EXPECT_EQ(source.kind, TransportKind::kTcp);
  EXPECT_EQ(source.port, peer.local_port());
  EXPECT_NE(source.connection, 0u);
  const GenericParam* rport = find_param(message.vias[0].params, "rport");
  ASSERT_NE(rport, nullptr);
  EXPECT_EQ(rport->value, std::to_string(peer.local_port()));
}

TEST_F(TcpTransportTest, DeliversTwoMessagesFromOneWrite) {
  start();
  TcpPeer peer(io_, layer_->tcp_port());
  peer.write(options_request(kTcpVia, "first") + options_request(kTcpVia, "second"));
  ASSERT_TRUE(run_until(io_, [&] { return listener_.messages.size() == 2; }));
  EXPECT_EQ(listener_.messages[0].message.call_id, "first");
  EXPECT_EQ(listener_.messages[1].message.call_id, "second");
  EXPECT_EQ(listener_.messages[0].source.connection, listener_.messages[1].source.connection);
}

TEST_F(TcpTransportTest, SendsTheResponseBackOverTheSameConnection) {
  start();
  TcpPeer peer(io_, layer_->tcp_port());
  peer.write(options_request(kTcpVia));
  ASSERT_TRUE(run_until(io_, [&] { return listener_.messages.size() == 1; }));
  const auto& [request, source] = listener_.messages.front();
  ASSERT_TRUE(layer_->send_response(make_response(request, 200, "totag"), source));
  ASSERT_TRUE(run_until(io_, [&] { return peer.received.find("\r\n\r\n") != std::string::npos; }));
  EXPECT_TRUE(peer.received.starts_with("SIP/2.0 200")) << peer.received;
  EXPECT_EQ(layer_->connection_count(), 1u);
}

TEST_F(TcpTransportTest, ReconnectsToTheViaWhenTheRequestConnectionIsGone) {
  // §18.2.2: the connection closed; open one to received at the sent-by port.
  start();
  TestAcceptor via_target(io_);
  const std::string via = "SIP/2.0/TCP 127.0.0.1:" + std::to_string(via_target.port()) + ";branch=z9hG4bKre";
  {
    TcpPeer peer(io_, layer_->tcp_port());
    peer.write(options_request(via));
    ASSERT_TRUE(run_until(io_, [&] { return listener_.messages.size() == 1; }));
  }
  ASSERT_TRUE(run_until(io_, [&] { return layer_->connection_count() == 0; }));
  const auto& [request, source] = listener_.messages.front();
  ASSERT_TRUE(layer_->send_response(make_response(request, 200, "totag"), source));
  ASSERT_TRUE(run_until(io_, [&] {
    return via_target.peers.size() == 1 && via_target.peers[0]->received.find("\r\n\r\n") != std::string::npos;
  }));
  EXPECT_TRUE(via_target.peers[0]->received.starts_with("SIP/2.0 200"));
}

TEST_F(TcpTransportTest, ClosesAcceptsOverThePerIpCap) {
  auto config = loopback_config();
  config.max_connections_per_ip = 2;
  start(config);
  TcpPeer first(io_, layer_->tcp_port());
  TcpPeer second(io_, layer_->tcp_port());
  ASSERT_TRUE(run_until(io_, [&] { return layer_->connection_count() == 2; }));
  TcpPeer third(io_, layer_->tcp_port());
  ASSERT_TRUE(run_until(io_, [&] { return third.closed; }));
  EXPECT_EQ(layer_->connection_count(), 2u);
  EXPECT_EQ(layer_->counters().dropped(DropReason::kPerIpCap), 1u);
  EXPECT_FALSE(first.closed);
  EXPECT_FALSE(second.closed);
}

TEST_F(TcpTransportTest, ClosesAnIdleConnection) {
  auto config = loopback_config();
  config.idle_timeout = std::chrono::milliseconds(200);
  start(config);
  TcpPeer peer(io_, layer_->tcp_port());
  ASSERT_TRUE(run_until(io_, [&] { return layer_->connection_count() == 1; }));
  ASSERT_TRUE(run_until(io_, [&] { return peer.closed; }));
  EXPECT_EQ(layer_->connection_count(), 0u);
  EXPECT_EQ(layer_->counters().dropped(DropReason::kIdle), 1u);
}

TEST_F(TcpTransportTest, ClosesTheConnectionOnAnOversizedMessage) {
  auto config = loopback_config();
  config.limits.max_message_bytes = 2048;
  start(config);
  TcpPeer peer(io_, layer_->tcp_port());
  peer.write(options_request(kTcpVia, "big", std::string(8192, 'x')));
  ASSERT_TRUE(run_until(io_, [&] { return peer.closed; }));
  EXPECT_TRUE(listener_.messages.empty());
  EXPECT_TRUE(peer.received.empty());  // answered with nothing
  EXPECT_EQ(layer_->counters().dropped(DropReason::kFraming), 1u);
  EXPECT_EQ(layer_->connection_count(), 0u);
}

// Answers every answerable parse error the way the transaction layer does (§8.2.6.1).
class AnsweringListener final : public TransportListener {
 public:
  TransportLayer* layer = nullptr;
  std::size_t answered = 0;
  void on_message(SipMessage, const PeerAddress&) override {}
  void on_bad_message(const ParseError& error, const PeerAddress& source) override {
    if (error.have_response_headers && layer->send_response(make_response(error.partial, error.status), source)) {
      ++answered;
    }
  }
};

TEST_F(TcpTransportTest, SendsTheAnswerToTheLastFramedErrorThenCloses) {
  // A Content-Length past the limit: the framer reports 513 once, then framing is lost. The 513
  // already queued still goes out; nothing else is read or answered.
  AnsweringListener answering;
  auto config = loopback_config();
  config.limits.max_message_bytes = 4096;
  TransportLayer layer(io_, config, answering);
  answering.layer = &layer;
  ASSERT_TRUE(layer.start().has_value());
  TcpPeer peer(io_, layer.tcp_port());
  std::string request = options_request(kTcpVia, "too-big");
  request.replace(request.find("Content-Length: 0"), 17, "Content-Length: 5000");
  peer.write(request + std::string(100, 'x'));
  ASSERT_TRUE(run_until(io_, [&] { return peer.closed; }));
  EXPECT_EQ(answering.answered, 1u);
  EXPECT_TRUE(peer.received.starts_with("SIP/2.0 513")) << peer.received;
  EXPECT_EQ(layer.counters().dropped(DropReason::kFraming), 1u);
  EXPECT_EQ(layer.connection_count(), 0u);
}

TEST_F(TcpTransportTest, AnswersADoubleCrlfPingWithOneCrlf) {
  start();
  TcpPeer peer(io_, layer_->tcp_port());
  peer.write("\r\n");
  ASSERT_TRUE(run_until(io_, [&] { return layer_->connection_count() == 1; }));
  peer.write("\r\n");  // the ping split across two writes
  ASSERT_TRUE(run_until(io_, [&] { return peer.received == "\r\n"; }));
  // The connection still carries messages afterwards.
  peer.write(options_request(kTcpVia));
  ASSERT_TRUE(run_until(io_, [&] { return listener_.messages.size() == 1; }));
  EXPECT_EQ(layer_->counters().keepalives, 1u);
}

TEST_F(TcpTransportTest, ReusesOneConnectionForRequestsToTheSamePeer) {
  start();
  TestAcceptor target(io_);
  const PeerAddress destination{TransportKind::kTcp, kLoopback, target.port(), 0};
  ASSERT_TRUE(layer_->send_request(outgoing_request(*layer_, "one"), destination));
  ASSERT_TRUE(layer_->send_request(outgoing_request(*layer_, "two"), destination));
  ASSERT_TRUE(run_until(io_, [&] {
    return target.peers.size() == 1 && target.peers[0]->received.find("Call-ID: two") != std::string::npos;
  }));
  EXPECT_LT(target.peers[0]->received.find("Call-ID: one"), target.peers[0]->received.find("Call-ID: two"));
  ASSERT_TRUE(layer_->send_request(outgoing_request(*layer_, "three"), destination));
  ASSERT_TRUE(run_until(io_, [&] { return target.peers[0]->received.find("Call-ID: three") != std::string::npos; }));
  EXPECT_EQ(target.peers.size(), 1u);
  EXPECT_EQ(layer_->counters().connections_opened, 1u);
}

TEST_F(TcpTransportTest, DisconnectsPastTheWriteQueueLimit) {
  auto config = loopback_config();
  config.max_write_queue_bytes = 16 * 1024;
  start(config);
  TestAcceptor target(io_);
  const PeerAddress destination{TransportKind::kTcp, kLoopback, target.port(), 0};
  // Messages queue while the connection is being opened; the third overflows the queue.
  EXPECT_TRUE(layer_->send_request(outgoing_request(*layer_, "q1", std::string(6000, 'a')), destination));
  EXPECT_TRUE(layer_->send_request(outgoing_request(*layer_, "q2", std::string(6000, 'b')), destination));
  EXPECT_FALSE(layer_->send_request(outgoing_request(*layer_, "q3", std::string(6000, 'c')), destination));
  EXPECT_EQ(layer_->counters().dropped(DropReason::kWriteQueue), 1u);
  EXPECT_EQ(layer_->connection_count(), 0u);
}

TEST_F(TcpTransportTest, StopClosesEveryConnection) {
  start();
  TcpPeer peer(io_, layer_->tcp_port());
  ASSERT_TRUE(run_until(io_, [&] { return layer_->connection_count() == 1; }));
  layer_->stop();
  EXPECT_EQ(layer_->connection_count(), 0u);
  ASSERT_TRUE(run_until(io_, [&] { return peer.closed; }));
  EXPECT_EQ(layer_->tcp_port(), 0);
}

}  // namespace tcp_transport_test
}  // namespace chorus::sip
