#include "signaling/transport/transport_layer.hpp"

#include <boost/asio/ip/udp.hpp>
#include <utility>

#include "common/log.hpp"
#include "signaling/message/sip_uri.hpp"
#include "signaling/transport/tls_context.hpp"
#include "signaling/transport/via_routing.hpp"

namespace chorus::sip {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;

namespace {

bool is_routable(const asio::ip::address& address, std::uint16_t port) {
  return port != 0 && !address.is_unspecified() && !address.is_multicast();
}

bool is_websocket(TransportKind kind) {
  return kind == TransportKind::kWs || kind == TransportKind::kWss;
}

}  // namespace

// The address of the interface that holds the route to the Internet, learnt by connecting a UDP
// socket to a documentation address (RFC 5737 / RFC 3849): connect() on a datagram socket only
// chooses a route and sends nothing. Falls back to loopback on a machine without such a route.
std::string guess_public_address(const asio::ip::address& bind) {
  if (!bind.is_unspecified()) return bind.to_string();
  const bool v6 = bind.is_v6();
  boost::system::error_code ec;
  asio::io_context io;  // the probe socket needs one; nothing ever runs on it
  udp::socket probe(io);
  probe.open(v6 ? udp::v6() : udp::v4(), ec);
  if (!ec) probe.connect(udp::endpoint(asio::ip::make_address(v6 ? "2001:db8::1" : "192.0.2.1"), 9), ec);
  udp::endpoint local;
  if (!ec) local = probe.local_endpoint(ec);
  if (!ec && !local.address().is_unspecified()) return normalize_address(local.address()).to_string();
  return v6 ? "::1" : "127.0.0.1";
}

TransportLayer::TransportLayer(asio::io_context& io, TransportConfig config, TransportListener& listener)
    : io_(io), config_(std::move(config)), listener_(listener), limiter_(config_.source_limits) {}

TransportLayer::~TransportLayer() {
  stop();
}

std::expected<void, std::string> TransportLayer::start() {
  if (started_) return std::unexpected("transport already started");
  boost::system::error_code ec;
  const auto bind = asio::ip::make_address(config_.bind_address, ec);
  if (ec) return std::unexpected("bind address '" + config_.bind_address + "' is not an IP address");
  if (config_.tls_cert_file.empty() != config_.tls_key_file.empty()) {
    return std::unexpected("TLS needs both a certificate file and a key file");
  }
  auto origins = WsOriginPolicy::make(config_.ws_allowed_origins);
  if (!origins) return std::unexpected(origins.error());
  ws_origins_ = std::make_shared<const WsOriginPolicy>(std::move(*origins));
  if (auto opened = open_listeners(bind); !opened) {
    stop();
    return opened;
  }
  bind_ip_ = bind;
  public_address_ = config_.public_address.empty() ? guess_public_address(bind) : config_.public_address;
  udp_->start();
  tcp_acceptor_->start();
  for (const auto& acceptor : {tls_acceptor_, ws_acceptor_, wss_acceptor_}) {
    if (acceptor) acceptor->start();
  }
  started_ = true;
  const auto shown = [](std::optional<std::uint16_t> port) {
    return port ? std::to_string(*port) : std::string("off");
  };
  CHORUS_LOG(kInfo, "transport", "listening", {"bind", config_.bind_address}, {"public_address", public_address_},
             {"udp", udp_port()}, {"tcp", tcp_port()}, {"tls", shown(tls_port())}, {"ws", shown(ws_port())},
             {"wss", shown(wss_port())});
  if ((ws_acceptor_ || wss_acceptor_) && ws_origins_->allows_any()) {
    CHORUS_LOG(kWarn, "transport",
               "WebSocket upgrades accepted from any Origin: any web page can make its visitors' "
               "browsers call in");
  }
  return {};
}

std::expected<void, std::string> TransportLayer::open_listeners(const asio::ip::address& bind) {
  udp_ = std::make_shared<UdpTransport>(io_, static_cast<UdpEvents&>(*this));
  if (auto opened = udp_->open(udp::endpoint(bind, config_.udp_port), config_.marking, config_.udp_receive_buffer);
      !opened)
    return opened;
  tcp_acceptor_ = std::make_shared<StreamAcceptor>(io_, TransportKind::kTcp, static_cast<AcceptorEvents&>(*this));
  if (auto opened = tcp_acceptor_->open(tcp::endpoint(bind, config_.tcp_port), config_.marking); !opened) return opened;
  if (config_.tls_cert_file.empty()) {
    CHORUS_LOG(kInfo, "transport", "TLS disabled: no certificate configured");
  } else if (auto opened = open_tls(bind); !opened) {
    return opened;
  }
  return open_ws(bind);
}

std::expected<void, std::string> TransportLayer::open_tls(const asio::ip::address& bind) {
  auto server = make_server_tls_context(config_.tls_cert_file, config_.tls_key_file);
  if (!server) return std::unexpected(server.error());
  auto client = make_client_tls_context();
  if (!client) return std::unexpected(client.error());
  tls_server_context_ = std::move(*server);
  tls_client_context_ = std::move(*client);
  tls_acceptor_ = std::make_shared<StreamAcceptor>(io_, TransportKind::kTls, static_cast<AcceptorEvents&>(*this));
  if (auto opened = tls_acceptor_->open(tcp::endpoint(bind, config_.tls_port.value_or(5061)), config_.marking);
      !opened) {
    return opened;
  }
  CHORUS_LOG(kInfo, "transport", "outgoing TLS connections do not verify the server certificate");
  return {};
}

// RFC 7118 §3: the WebSocket server listens for HTTP upgrades; WSS shares the TLS certificate.
std::expected<void, std::string> TransportLayer::open_ws(const asio::ip::address& bind) {
  if (config_.ws_port) {
    ws_acceptor_ = std::make_shared<StreamAcceptor>(io_, TransportKind::kWs, static_cast<AcceptorEvents&>(*this));
    if (auto opened = ws_acceptor_->open(tcp::endpoint(bind, *config_.ws_port), config_.marking); !opened)
      return opened;
  }
  if (config_.wss_port && !tls_server_context_) {
    CHORUS_LOG(kInfo, "transport", "WSS disabled: no certificate configured");
  } else if (config_.wss_port) {
    wss_acceptor_ = std::make_shared<StreamAcceptor>(io_, TransportKind::kWss, static_cast<AcceptorEvents&>(*this));
    if (auto opened = wss_acceptor_->open(tcp::endpoint(bind, *config_.wss_port), config_.marking); !opened)
      return opened;
  }
  return {};
}

void TransportLayer::stop() {
  if (udp_) std::exchange(udp_, nullptr)->close();
  if (tcp_acceptor_) std::exchange(tcp_acceptor_, nullptr)->close();
  for (auto* acceptor : {&tls_acceptor_, &ws_acceptor_, &wss_acceptor_}) {
    if (*acceptor) std::exchange(*acceptor, nullptr)->close();
  }
  // Connections keep their own reference to the TLS contexts they use.
  tls_server_context_.reset();
  tls_client_context_.reset();
  // Closing reports back through on_stream_closed, which finds nothing in the emptied map.
  auto connections = std::exchange(connections_, {});
  by_remote_.clear();
  inbound_per_ip_.clear();
  for (auto& [id, connection] : connections) connection->close(std::nullopt, "transport stopped");
  started_ = false;
}

std::uint16_t TransportLayer::udp_port() const {
  return udp_ ? udp_->port() : 0;
}

std::uint16_t TransportLayer::tcp_port() const {
  return tcp_acceptor_ ? tcp_acceptor_->port() : 0;
}

std::optional<std::uint16_t> TransportLayer::tls_port() const {
  if (!tls_acceptor_) return std::nullopt;
  return tls_acceptor_->port();
}

std::optional<std::uint16_t> TransportLayer::ws_port() const {
  if (!ws_acceptor_) return std::nullopt;
  return ws_acceptor_->port();
}

std::optional<std::uint16_t> TransportLayer::wss_port() const {
  if (!wss_acceptor_) return std::nullopt;
  return wss_acceptor_->port();
}

bool TransportLayer::serves(TransportKind kind) const {
  switch (kind) {
    case TransportKind::kUdp:
      return udp_ != nullptr;
    case TransportKind::kTcp:
      return tcp_acceptor_ != nullptr;
    case TransportKind::kTls:
      return tls_acceptor_ != nullptr && tls_client_context_ != nullptr;
    case TransportKind::kWs:
      return ws_acceptor_ != nullptr;
    case TransportKind::kWss:
      return wss_acceptor_ != nullptr;
  }
  return false;
}

std::string TransportLayer::via_sent_by(TransportKind kind) const {
  std::uint16_t port = 0;
  switch (kind) {
    case TransportKind::kUdp:
      port = udp_ ? udp_port() : config_.udp_port;
      break;
    case TransportKind::kTcp:
      port = tcp_acceptor_ ? tcp_port() : config_.tcp_port;
      break;
    case TransportKind::kTls:
      if (!tls_acceptor_) return {};
      port = *tls_port();
      break;
    case TransportKind::kWs:
      if (!ws_acceptor_) return {};
      port = *ws_port();
      break;
    case TransportKind::kWss:
      if (!wss_acceptor_) return {};
      port = *wss_port();
      break;
  }
  const std::string& host = public_address_.empty() ? config_.public_address : public_address_;
  return bracket_host(host) + ":" + std::to_string(port);
}

// ---- receiving

void TransportLayer::on_datagram(std::string_view bytes, const udp::endpoint& from) {
  ++counters_.datagrams_received;
  const PeerAddress source{TransportKind::kUdp, normalize_address(from.address()), from.port(), 0};
  // Before anything is parsed: a flooding source costs one table lookup per datagram.
  if (!admit_source(source)) return;
  // RFC 5626 §4.4.1 / §3.5.1 of RFC 3261's practice: CRLF-only datagrams are keepalives.
  if (bytes.find_first_not_of("\r\n") == std::string_view::npos) {
    ++counters_.keepalives;
    return;
  }
  // RFC 7983 §7: a first byte of 0–3 is STUN (RFC 5626 §4.4.2 keepalives), never a SIP start line.
  if (static_cast<unsigned char>(bytes.front()) < 4) {
    drops_.record(DropReason::kNotSip, "STUN or binary datagram", source.to_string());
    return;
  }
  auto parsed = parse_datagram(bytes, config_.limits);
  if (!parsed) {
    report_bad_message(std::move(parsed.error()), source);
    return;
  }
  deliver(std::move(*parsed), source);
}

void TransportLayer::on_stream_message(SipMessage message, const PeerAddress& source) {
  if (!admit_source(source)) return;
  ++(is_websocket(source.kind) ? counters_.ws_messages_received : counters_.stream_messages_received);
  deliver(std::move(message), source);
}

void TransportLayer::on_stream_bad_message(const ParseError& error, const PeerAddress& source) {
  report_bad_message(error, source);
}

void TransportLayer::report_bad_message(ParseError error, const PeerAddress& source) {
  ++counters_.bad_messages;
  // The 400/513 answer is routed by the partial request's top Via like any response (§18.2.2), so
  // it needs received/rport as much as a good request does (RFC 3581 §4).
  if (error.is_request && error.partial.is_request) stamp_top_via(error.partial, source.address, source.port);
  listener_.on_bad_message(error, source);
}

void TransportLayer::on_stream_keepalive(const PeerAddress&) {
  ++counters_.keepalives;
}

void TransportLayer::on_ws_upgraded(const PeerAddress& source) {
  ++counters_.ws_upgrades;
  CHORUS_LOG(kDebug, "transport", "WebSocket upgraded", {"peer", source.to_string()});
}

void TransportLayer::deliver(SipMessage message, const PeerAddress& source) {
  if (message.is_request) {
    // §18.2.1 and RFC 3581 §4: received/rport, so the response finds its way back.
    stamp_top_via(message, source.address, source.port);
  } else if (auto via = top_via(message); !via || !is_our_sent_by(*via)) {
    // §18.1.2: a response whose top Via we did not write is silently discarded.
    drops_.record(DropReason::kForeignResponse, via ? "sent-by " + via->host : std::string("no Via"),
                  source.to_string());
    return;
  }
  listener_.on_message(std::move(message), source);
}

bool TransportLayer::admit_source(const PeerAddress& source) {
  switch (limiter_.admit(source.address, SteadyClock::now())) {
    case SourceRateLimiter::Verdict::kAllowed:
    case SourceRateLimiter::Verdict::kTrusted:
      return true;
    case SourceRateLimiter::Verdict::kBlockedNow:
      // One line per block, in a fixed shape fail2ban can match (docs/security.md).
      CHORUS_LOG(kWarn, "security", "sip_source_blocked", {"source", source.address.to_string()},
                 {"transport", transport_name(source.kind)}, {"rate", limiter_.limits().rate},
                 {"burst", limiter_.limits().burst}, {"block_seconds", limiter_.limits().block_time.count()});
      return false;
    case SourceRateLimiter::Verdict::kBlocked:
      return false;
  }
  return false;
}

bool TransportLayer::is_our_sent_by(const Via& via) const {
  const auto theirs = literal_host_address(via.host);
  const auto ours = literal_host_address(public_address_);
  bool host_matches = false;
  if (theirs && ours) {
    host_matches = *theirs == *ours || (bind_ip_ && !bind_ip_->is_unspecified() && *theirs == *bind_ip_);
  } else if (!theirs && !ours) {
    host_matches = iequals(via.host, public_address_);  // a configured host name
  }
  if (!host_matches) return false;
  const auto kind = transport_from_name(via.transport).value_or(TransportKind::kUdp);
  const std::uint16_t port = via.port.value_or(default_sip_port(kind));
  return port == udp_port() || port == tcp_port() || port == tls_port() || port == ws_port() || port == wss_port();
}

// ---- connections

void TransportLayer::on_accepted(TransportKind kind, tcp::socket socket) {
  boost::system::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  if (ec) return;  // reset before we looked at it
  const PeerAddress peer{kind, normalize_address(remote.address()), remote.port(), 0};
  if (!admit_source(peer)) {
    socket.close(ec);
    return;
  }
  if (connections_.size() >= config_.max_connections) {
    drops_.record(DropReason::kGlobalCap, "max_connections " + std::to_string(config_.max_connections),
                  peer.to_string());
    socket.close(ec);
    return;
  }
  if (auto it = inbound_per_ip_.find(peer.address);
      config_.max_connections_per_ip == 0 ||
      (it != inbound_per_ip_.end() && it->second >= config_.max_connections_per_ip)) {
    drops_.record(DropReason::kPerIpCap, "max_connections_per_ip " + std::to_string(config_.max_connections_per_ip),
                  peer.to_string());
    socket.close(ec);
    return;
  }
  const ConnectionId id = next_connection_id_++;
  std::shared_ptr<TransportConnection> connection;
  if (is_websocket(kind)) {
    connection = make_ws_connection(PeerAddress{kind, peer.address, peer.port, id}, std::move(socket),
                                    kind == TransportKind::kWss ? tls_server_context_ : nullptr,
                                    static_cast<ConnectionEvents&>(*this), ws_options());
  } else {
    connection = std::make_shared<StreamConnection>(id, kind, std::move(socket),
                                                    kind == TransportKind::kTls ? tls_server_context_ : nullptr,
                                                    static_cast<ConnectionEvents&>(*this), stream_options());
    by_remote_[RemoteKey{kind, peer.address, peer.port}] = id;
  }
  connections_.emplace(id, connection);
  ++inbound_per_ip_[peer.address];
  ++counters_.connections_accepted;
  CHORUS_LOG(kDebug, "transport", "connection accepted", {"peer", connection->peer().to_string()});
  connection->start_accepted();
}

std::shared_ptr<StreamConnection> TransportLayer::open_connection(TransportKind kind, const tcp::endpoint& remote) {
  const PeerAddress peer{kind, remote.address(), remote.port(), 0};
  if (connections_.size() >= config_.max_connections) {
    drops_.record(DropReason::kGlobalCap, "max_connections " + std::to_string(config_.max_connections),
                  peer.to_string());
    return nullptr;
  }
  tcp::socket socket(io_);
  // Leave from the bound address, so the peer sees the address it knows us by.
  if (bind_ip_ && !bind_ip_->is_unspecified()) {
    if (bind_ip_->is_v4() != remote.address().is_v4()) {
      drops_.record(DropReason::kUnroutable, "address family differs from the bind address", peer.to_string());
      return nullptr;
    }
    boost::system::error_code ec;
    socket.open(remote.protocol(), ec);
    if (!ec) socket.bind(tcp::endpoint(*bind_ip_, 0), ec);
    if (ec) {
      drops_.record(DropReason::kConnectFailed, "bind: " + ec.message(), peer.to_string());
      return nullptr;
    }
  }
  const ConnectionId id = next_connection_id_++;
  auto connection = std::make_shared<StreamConnection>(id, kind, std::move(socket),
                                                       kind == TransportKind::kTls ? tls_client_context_ : nullptr,
                                                       static_cast<ConnectionEvents&>(*this), stream_options());
  connections_.emplace(id, connection);
  by_remote_[RemoteKey{kind, remote.address(), remote.port()}] = id;
  ++counters_.connections_opened;
  CHORUS_LOG(kDebug, "transport", "connecting", {"peer", peer.to_string()}, {"connection", id});
  connection->start_connect(remote);
  return connection;
}

void TransportLayer::on_stream_closed(ConnectionId id, std::optional<DropReason> reason, std::string_view detail) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  const std::shared_ptr<TransportConnection> connection = std::move(it->second);
  connections_.erase(it);
  const PeerAddress& peer = connection->peer();
  if (auto r = by_remote_.find(RemoteKey{peer.kind, peer.address, peer.port});
      r != by_remote_.end() && r->second == id) {
    by_remote_.erase(r);
  }
  if (connection->inbound()) {
    if (auto count = inbound_per_ip_.find(peer.address); count != inbound_per_ip_.end() && --count->second == 0) {
      inbound_per_ip_.erase(count);
    }
  }
  if (reason) {
    drops_.record(*reason, detail, peer.to_string());
  } else {
    CHORUS_LOG(kDebug, "transport", "connection closed", {"peer", peer.to_string()}, {"detail", detail});
  }
}

std::shared_ptr<TransportConnection> TransportLayer::find_connection(ConnectionId id) const {
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : it->second;
}

StreamOptions TransportLayer::stream_options() const {
  return StreamOptions{config_.idle_timeout, config_.handshake_timeout, config_.max_write_queue_bytes, config_.limits,
                       config_.marking};
}

WsOptions TransportLayer::ws_options() const {
  return WsOptions{stream_options(), config_.ws_max_message_bytes, config_.ws_max_upgrade_bytes, ws_origins_};
}

// ---- sending

bool TransportLayer::send_request(const SipMessage& request, const PeerAddress& destination) {
  if (!serves(destination.kind)) {
    CHORUS_LOG(kWarn, "transport", "request for a transport that is not enabled",
               {"transport", transport_name(destination.kind)}, {"method", request.method});
    return false;
  }
  if (is_websocket(destination.kind)) {
    return send_ws(destination.kind, destination.connection, request.serialize(), destination);
  }
  const auto address = normalize_address(destination.address);
  if (!is_routable(address, destination.port)) {
    drops_.record(DropReason::kUnroutable, "request to a non-unicast address or port 0", destination.to_string());
    return false;
  }
  if (destination.kind == TransportKind::kUdp) return send_datagram(request.serialize(), address, destination.port);
  return send_stream(destination.kind, address, destination.port, destination.connection, request.serialize());
}

bool TransportLayer::send_response(const SipMessage& response, const PeerAddress& source) {
  if (!serves(source.kind)) {
    drops_.record(DropReason::kUnroutable, "transport not enabled", source.to_string());
    return false;
  }
  const auto via = top_via(response);
  if (!via) {
    drops_.record(DropReason::kUnroutable, "response without a Via", source.to_string());
    return false;
  }
  // RFC 7118 §5.2: the Via host is a `.invalid` name; only the request's connection leads back.
  if (is_websocket(source.kind)) return send_ws(source.kind, source.connection, response.serialize(), source);
  // §18.2.2: over the connection the request came on, while it is open.
  if (is_reliable(source.kind) && source.connection != 0) {
    if (auto connection = find_connection(source.connection)) return connection->send(response.serialize());
  }
  auto route = response_route(*via, source);
  if (!route) {
    drops_.record(DropReason::kUnroutable, route.error(), source.to_string());
    return false;
  }
  if (route->kind == TransportKind::kUdp) return send_datagram(response.serialize(), route->address, route->port);
  return send_stream(route->kind, route->address, route->port, 0, response.serialize());
}

// A datagram the kernel refused: at once (send_datagram), or after UdpTransport queued it while it
// delivered a batch (its sender was told it left; UDP promises no more). Counted alike.
void TransportLayer::on_send_failed(const udp::endpoint& to, const boost::system::error_code& ec) {
  drops_.record(DropReason::kSendFailed, ec.message(),
                PeerAddress{TransportKind::kUdp, normalize_address(to.address()), to.port(), 0}.to_string());
}

bool TransportLayer::send_datagram(const std::string& bytes, const asio::ip::address& address, std::uint16_t port) {
  if (!udp_) return false;
  const udp::endpoint to(address, port);
  if (const auto ec = udp_->send_to(bytes, to)) {
    on_send_failed(to, ec);
    return false;
  }
  return true;
}

bool TransportLayer::send_stream(TransportKind kind, const asio::ip::address& address, std::uint16_t port,
                                 ConnectionId preferred, std::string bytes) {
  // A local copy keeps the connection alive even if sending closes it (and drops it from the map).
  std::shared_ptr<TransportConnection> connection;
  if (preferred != 0) {
    connection = find_connection(preferred);
    if (connection && connection->kind() != kind) connection = nullptr;
  }
  if (!connection) {
    if (auto it = by_remote_.find(RemoteKey{kind, address, port}); it != by_remote_.end()) {
      connection = find_connection(it->second);
    }
  }
  if (!connection) connection = open_connection(kind, tcp::endpoint(address, port));
  return connection && connection->send(std::move(bytes));
}

bool TransportLayer::send_ws(TransportKind kind, ConnectionId id, std::string bytes, const PeerAddress& destination) {
  // A browser cannot be connected to, and a `;transport=ws` URI names no server we could reach.
  std::shared_ptr<TransportConnection> connection = id != 0 ? find_connection(id) : nullptr;
  if (!connection || connection->kind() != kind || connection->is_closed()) {
    drops_.record(DropReason::kWsNoConnection,
                  id != 0 ? "connection #" + std::to_string(id) + " is not an open " +
                                std::string(transport_name(kind)) + " connection; none is opened outbound"
                          : std::string("no WebSocket connection named; none is ever opened outbound"),
                  destination.to_string());
    return false;
  }
  return connection->send(std::move(bytes));
}

}  // namespace chorus::sip
