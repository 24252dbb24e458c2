// TransportConnection: what the TransportLayer needs of one SIP connection, whatever carries it —
// a TCP or TLS byte stream (StreamConnection, RFC 3261 §18) or a WebSocket (WsConnection, RFC 7118).
// The layer keeps them in one map by ConnectionId, applies the same caps to all of them, and sends
// responses and in-dialog requests back over the one a message arrived on.
//
// Threading: control loop only, like the layer. Lifetime: a shared_ptr kept alive by the
// connection's own pending operations (Boost.Beast style); close() detaches the events sink, so
// completions that arrive later do nothing.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "signaling/message/message_parser.hpp"
#include "signaling/transport/peer_address.hpp"
#include "signaling/transport/transport_counters.hpp"

namespace chorus::sip {

// What a connection reports to its owner (the TransportLayer).
class ConnectionEvents {
 public:
  virtual ~ConnectionEvents() = default;
  virtual void on_stream_message(SipMessage message, const PeerAddress& source) = 0;
  virtual void on_stream_bad_message(const ParseError& error, const PeerAddress& source) = 0;
  virtual void on_stream_keepalive(const PeerAddress& source) = 0;
  // A WebSocket connection completed its upgrade with the "sip" subprotocol (RFC 7118 §4).
  virtual void on_ws_upgraded(const PeerAddress& source) = 0;
  // The connection is closed; `reason` is set when it was dropped by a limit or an error of ours
  // or the peer's, and empty for an orderly end (the peer closed, or the owner stopped).
  virtual void on_stream_closed(ConnectionId id, std::optional<DropReason> reason, std::string_view detail) = 0;
};

class TransportConnection {
 public:
  virtual ~TransportConnection() = default;

  // Inbound: the socket is connected; run the handshakes the transport needs, then read.
  virtual void start_accepted() = 0;
  // Queues one whole SIP message; false when it cannot be sent (closed, not open yet, over the
  // write-queue limit — which also closes the connection as a slow reader).
  virtual bool send(std::string bytes) = 0;
  // Idempotent. Reports on_stream_closed once.
  virtual void close(std::optional<DropReason> reason, std::string_view detail) = 0;
  [[nodiscard]] virtual bool is_closed() const = 0;

  [[nodiscard]] ConnectionId id() const { return peer_.connection; }
  [[nodiscard]] TransportKind kind() const { return peer_.kind; }
  [[nodiscard]] const PeerAddress& peer() const { return peer_; }
  [[nodiscard]] bool inbound() const { return inbound_; }

 protected:
  PeerAddress peer_;
  bool inbound_ = false;
};

}  // namespace chorus::sip
