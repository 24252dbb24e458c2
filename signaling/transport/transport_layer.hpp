// TransportLayer: SIP over UDP, TCP, TLS (RFC 3261 §18, RFC 3581) and WebSocket, WS and WSS
// (RFC 7118), the bottom of the SIP stack.
//
//   sockets ──▶ UdpTransport / StreamConnection / WsSession ──▶ TransportLayer ──on_message──▶ TransportListener
//   TransactionLayer ──MessageSender (send_request / send_response)──▶ TransportLayer ──▶ sockets
//
// Receiving (§18.2.1): a datagram is one message; streams are framed by Content-Length; a WebSocket
// message is one message (RFC 7118 §5). The top Via
// of every request gets `received`/`rport` (RFC 3581 §4) before it goes up, with the source as a
// PeerAddress that names the connection. Responses whose top Via is not ours are dropped (§18.1.2).
// Sending: responses return over the request's connection, else by the Via rules (§18.2.2, see
// via_routing.hpp); requests to a stream destination reuse an open connection to it or open one.
// WebSocket peers are browsers behind NATs with `.invalid` Via hosts (RFC 7118 §5.2): responses
// and requests reach them only over the connection named in the PeerAddress, while it is open; an
// outbound WebSocket connection is never opened (the send fails and is counted, kWsNoConnection).
// Only IP literals are routed: no DNS lookups ever happen here (RFC 3263 resolution, if wanted,
// belongs above, and foreign names in a Via must never send traffic anywhere).
// Limits: connections per IP and in total (WS and WSS included), idle timeout, TLS and WebSocket
// handshake deadline, write queue, parse limits, WebSocket message and upgrade-request size, and
// the Origin check (ws_origin.hpp). Every drop is counted in counters() and logged at most once a
// second per reason. Before any of that, every datagram, accepted connection and stream message is
// charged to its source IP (source_rate_limiter.hpp): a source over its rate is blocked and gets
// nothing at all, before its bytes are parsed (one `security` log line when the block starts).
//
// Threading: everything runs on the one io_context thread (the control loop, DESIGN §2); no locks.
// Stream connections are shared_ptr sessions kept alive by their pending operations and found by
// ConnectionId in connections_. stop() (also run by the destructor) closes every socket and
// detaches them all, so completions that run later never reach this object.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "common/timer_queue.hpp"
#include "signaling/message/message_parser.hpp"
#include "signaling/transport/message_sink.hpp"
#include "signaling/transport/source_rate_limiter.hpp"
#include "signaling/transport/stream_acceptor.hpp"
#include "signaling/transport/stream_connection.hpp"
#include "signaling/transport/transport_connection.hpp"
#include "signaling/transport/transport_counters.hpp"
#include "signaling/transport/udp_transport.hpp"
#include "signaling/transport/ws_connection.hpp"

namespace chorus::sip {

struct TransportConfig {
  std::string bind_address = "0.0.0.0";  // IPv4 or IPv6 literal
  // What goes into Via sent-by and Contact. Default: the bind address; for a wildcard bind, the
  // address of the interface that holds the default route, else loopback.
  std::string public_address;
  std::uint16_t udp_port = 5060;             // 0: pick a free port (tests); UDP and TCP may then differ
  std::size_t udp_receive_buffer = 4 << 20;  // SO_RCVBUF of the UDP socket (0: the kernel's default)
  std::uint16_t tcp_port = 5060;
  std::optional<std::uint16_t> tls_port;               // default 5061; TLS listens only with cert and key
  std::string tls_cert_file;                           // PEM certificate chain
  std::string tls_key_file;                            // PEM private key
  std::size_t max_connections_per_ip = 64;             // further accepts from that IP are closed at once
  std::size_t max_connections = 4096;                  // inbound and outbound together
  Millis idle_timeout{std::chrono::seconds(120)};      // a stream connection idle that long is closed
  Millis handshake_timeout{std::chrono::seconds(10)};  // outgoing connect, and TLS handshakes
  std::size_t max_write_queue_bytes = 1 << 20;         // a slow reader past this is disconnected
  ParseLimits limits;
  // SIP over WebSocket (RFC 7118). Off unless a port is given; 0 picks a free port (tests).
  std::optional<std::uint16_t> ws_port;
  std::optional<std::uint16_t> wss_port;  // WSS also needs tls_cert_file and tls_key_file (the same as TLS)
  // Origins (scheme://host[:port]) whose pages may connect; a request without Origin (a SIP UA
  // that is not a browser) is always let in. "*" lets every page in: unsafe, any web site could
  // then make its visitors' browsers call in. Empty: only requests without Origin.
  std::vector<std::string> ws_allowed_origins;
  std::size_t ws_max_message_bytes = 64 * 1024;  // per message or frame; more closes with 1009
  std::size_t ws_max_upgrade_bytes = 8 * 1024;   // header block of the HTTP upgrade request
  // Pike-like messages per second per source IP, and the block list beyond (source_rate_limiter.hpp).
  SourceLimits source_limits;
  // DSCP of every SIP socket, UDP, listeners, accepted and outbound connections (common/dscp.hpp;
  // issue 15: CS3 by default from the server). No code point: the kernel's default.
  SocketMarking marking;
};

// The address a wildcard bind is reachable at: the interface that holds the route to the Internet,
// else loopback; a specific bind address is itself. What start() uses for an empty public_address.
std::string guess_public_address(const boost::asio::ip::address& bind);

class TransportLayer final : public MessageSender, private UdpEvents, private AcceptorEvents, private ConnectionEvents {
 public:
  TransportLayer(boost::asio::io_context& io, TransportConfig config, TransportListener& listener);
  ~TransportLayer() override;
  TransportLayer(const TransportLayer&) = delete;
  TransportLayer& operator=(const TransportLayer&) = delete;

  // Binds UDP, TCP, (with a certificate) TLS, and WS / WSS when their ports are set. The error
  // names the port, file or allowed origin at fault; on error nothing stays open.
  std::expected<void, std::string> start();
  // Closes the listeners and every connection. Idempotent; start() may be called again.
  void stop();

  [[nodiscard]] std::uint16_t udp_port() const;
  [[nodiscard]] std::uint16_t tcp_port() const;
  [[nodiscard]] std::optional<std::uint16_t> tls_port() const;  // empty when TLS is off
  [[nodiscard]] std::optional<std::uint16_t> ws_port() const;   // empty when WS is off
  [[nodiscard]] std::optional<std::uint16_t> wss_port() const;  // empty when WSS is off
  [[nodiscard]] std::size_t connection_count() const { return connections_.size(); }
  [[nodiscard]] const TransportCounters& counters() const { return counters_; }
  [[nodiscard]] const std::string& public_address() const { return public_address_; }
  [[nodiscard]] const SourceRateLimiter& source_limiter() const { return limiter_; }

  // MessageSender
  bool send_request(const SipMessage& request, const PeerAddress& destination) override;
  bool send_response(const SipMessage& response, const PeerAddress& source) override;
  // "public_address:port" for UDP, TCP and (when on) TLS, WS, WSS; empty for a transport not served here.
  [[nodiscard]] std::string via_sent_by(TransportKind kind) const override;

 private:
  using RemoteKey = std::tuple<TransportKind, boost::asio::ip::address, std::uint16_t>;

  // UdpEvents
  void on_datagram(std::string_view bytes, const boost::asio::ip::udp::endpoint& from) override;
  void on_send_failed(const boost::asio::ip::udp::endpoint& to, const boost::system::error_code& ec) override;
  // AcceptorEvents
  void on_accepted(TransportKind kind, boost::asio::ip::tcp::socket socket) override;
  // ConnectionEvents
  void on_stream_message(SipMessage message, const PeerAddress& source) override;
  void on_stream_bad_message(const ParseError& error, const PeerAddress& source) override;
  void on_stream_keepalive(const PeerAddress& source) override;
  void on_ws_upgraded(const PeerAddress& source) override;
  void on_stream_closed(ConnectionId id, std::optional<DropReason> reason, std::string_view detail) override;

  std::expected<void, std::string> open_listeners(const boost::asio::ip::address& bind);
  std::expected<void, std::string> open_tls(const boost::asio::ip::address& bind);
  std::expected<void, std::string> open_ws(const boost::asio::ip::address& bind);
  void deliver(SipMessage message, const PeerAddress& source);
  // Charges one message to the source IP; false: drop it unanswered (the source is blocked).
  bool admit_source(const PeerAddress& source);
  void report_bad_message(ParseError error, const PeerAddress& source);
  [[nodiscard]] bool is_our_sent_by(const Via& via) const;
  [[nodiscard]] bool serves(TransportKind kind) const;

  bool send_datagram(const std::string& bytes, const boost::asio::ip::address& address, std::uint16_t port);
  // Over `preferred` when it is open and of `kind`, else over an open connection to the remote,
  // else over a new outbound connection.
  bool send_stream(TransportKind kind, const boost::asio::ip::address& address, std::uint16_t port,
                   ConnectionId preferred, std::string bytes);
  // Only over the open WS/WSS connection `id` (never a new one; RFC 7118 §5).
  bool send_ws(TransportKind kind, ConnectionId id, std::string bytes, const PeerAddress& destination);
  std::shared_ptr<StreamConnection> open_connection(TransportKind kind, const boost::asio::ip::tcp::endpoint& remote);
  [[nodiscard]] std::shared_ptr<TransportConnection> find_connection(ConnectionId id) const;
  [[nodiscard]] StreamOptions stream_options() const;
  [[nodiscard]] WsOptions ws_options() const;

  boost::asio::io_context& io_;
  TransportConfig config_;
  TransportListener& listener_;
  std::string public_address_;
  std::optional<boost::asio::ip::address> bind_ip_;
  bool started_ = false;

  std::shared_ptr<UdpTransport> udp_;
  std::shared_ptr<StreamAcceptor> tcp_acceptor_;
  std::shared_ptr<StreamAcceptor> tls_acceptor_;
  std::shared_ptr<StreamAcceptor> ws_acceptor_;
  std::shared_ptr<StreamAcceptor> wss_acceptor_;
  std::shared_ptr<const WsOriginPolicy> ws_origins_;
  std::shared_ptr<boost::asio::ssl::context> tls_server_context_;
  std::shared_ptr<boost::asio::ssl::context> tls_client_context_;

  std::unordered_map<ConnectionId, std::shared_ptr<TransportConnection>> connections_;
  std::map<RemoteKey, ConnectionId> by_remote_;  // TCP/TLS, for reuse by send_request (§18.1.1)
  std::map<boost::asio::ip::address, std::size_t> inbound_per_ip_;
  ConnectionId next_connection_id_ = 1;

  TransportCounters counters_;
  DropRecorder drops_{counters_};
  SourceRateLimiter limiter_;
};

}  // namespace chorus::sip
