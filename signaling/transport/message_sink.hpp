// The seams between the SIP layers (DESIGN §1: a lower layer calls up only through a listener it declares).
#pragma once

#include <string>

#include "signaling/message/message_parser.hpp"
#include "signaling/message/sip_message.hpp"
#include "signaling/transport/peer_address.hpp"

namespace chorus::sip {

// What the transport layer delivers upward (implemented by the transaction layer).
class TransportListener {
 public:
  virtual ~TransportListener() = default;
  // A parsed message. For requests the top Via already carries `received`/`rport` (RFC 3581, §18.2.1).
  virtual void on_message(SipMessage message, const PeerAddress& source) = 0;
  // A message that failed to parse; requests should get error.status when answerable.
  virtual void on_bad_message(const ParseError& error, const PeerAddress& source) = 0;
};

// What the transaction layer needs from the transport layer; tests use a fake.
class MessageSender {
 public:
  virtual ~MessageSender() = default;
  // Sends a request to `destination` (for streams: reuses or opens a connection).
  // Returns false when it cannot be sent at once (no route, connection refused synchronously).
  virtual bool send_request(const SipMessage& request, const PeerAddress& destination) = 0;
  // Sends a response per §18.2.2 using the top Via (received/rport) and the connection in `source`.
  virtual bool send_response(const SipMessage& response, const PeerAddress& source) = 0;
  // The sent-by value ("host:port") and transport name for a new top Via on `kind`.
  [[nodiscard]] virtual std::string via_sent_by(TransportKind kind) const = 0;
};

}  // namespace chorus::sip
