// Where a SIP message came from or goes to: the transport, the remote IP and port, and for stream
// transports the connection it arrived on (RFC 3261 §18.2.2: a response goes back over it).
#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chorus::sip {

enum class TransportKind : std::uint8_t { kUdp, kTcp, kTls, kWs, kWss };

std::string_view transport_name(TransportKind kind);                      // "UDP", "TCP", "TLS", "WS", "WSS"
std::optional<TransportKind> transport_from_name(std::string_view name);  // case-insensitive
inline bool is_reliable(TransportKind kind) {
  return kind != TransportKind::kUdp;
}

using ConnectionId = std::uint64_t;  // 0: none (datagram, or not yet connected)

struct PeerAddress {
  TransportKind kind = TransportKind::kUdp;
  boost::asio::ip::address address;
  std::uint16_t port = 0;
  ConnectionId connection = 0;

  [[nodiscard]] std::string to_string() const;  // "udp:127.0.0.1:5060", "tcp:[::1]:5061#7"
};

}  // namespace chorus::sip
