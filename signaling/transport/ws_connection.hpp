// One inbound SIP-over-WebSocket connection (RFC 7118), plain (WS) or over TLS (WSS): the factory
// the TransportLayer uses. The session itself is ws_session.hpp.
//
// Threading: control loop only. Lifetime: the connection is a shared_ptr kept alive by its own
// pending operations; the layer holds it in its connection map and calls close() to end it.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cstddef>
#include <memory>

#include "signaling/transport/stream_connection.hpp"
#include "signaling/transport/transport_connection.hpp"
#include "signaling/transport/ws_origin.hpp"

namespace chorus::sip {

struct WsOptions {
  // Idle timeout, write-queue cap and parse limits as for TCP; handshake_timeout bounds the TLS
  // handshake (WSS), the upgrade request and our 101 together.
  StreamOptions stream;
  std::size_t max_message_bytes = 64 * 1024;  // per message and per frame; more closes with 1009
  std::size_t max_upgrade_bytes = 8 * 1024;   // the upgrade request's header block
  std::shared_ptr<const WsOriginPolicy> origins = std::make_shared<WsOriginPolicy>();
};

// An accepted connection on the WS port (`tls` empty) or the WSS port (`tls` is the server context,
// shared so it outlives the connection). `peer` names the remote end and the ConnectionId; its
// kind is kWs or kWss. Call start_accepted() to run the handshakes.
std::shared_ptr<TransportConnection> make_ws_connection(const PeerAddress& peer, boost::asio::ip::tcp::socket socket,
                                                        std::shared_ptr<boost::asio::ssl::context> tls,
                                                        ConnectionEvents& events, WsOptions options);

}  // namespace chorus::sip
