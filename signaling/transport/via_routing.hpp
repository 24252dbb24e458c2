// The Via rules of the server transport (RFC 3261 §18.2.1, §18.2.2; RFC 3581 §4): stamping
// `received`/`rport` on requests that arrive, and choosing where a response goes when it cannot
// simply return over the connection the request came on. Pure functions: no sockets, no state.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include "signaling/message/header_types.hpp"
#include "signaling/message/sip_message.hpp"
#include "signaling/transport/peer_address.hpp"

namespace chorus::sip {

// An IPv4-mapped IPv6 address (from a dual-stack socket) as the IPv4 address it carries, so that
// comparisons with Via hosts and log lines use the form the peer wrote.
boost::asio::ip::address normalize_address(const boost::asio::ip::address& address);

// The host as an address when it is an IP literal (IPv6 with or without brackets), or loopback for
// "localhost". Any other name yields nothing: the transport never resolves foreign names.
std::optional<boost::asio::ip::address> literal_host_address(std::string_view host);

// RFC 3261 §18.1, RFC 3263 §4.2: 5061 for TLS, 5060 otherwise.
std::uint16_t default_sip_port(TransportKind kind);

// The top Via of a message: the parsed one when the parser filled `vias`, else the first Via header
// parsed now (messages built for sending carry headers only).
std::optional<Via> top_via(const SipMessage& message);

// Stamps the top Via of a received request and rewrites the first Via header to match:
//  - §18.2.1: `received=<source ip>` when the sent-by host is not the source address;
//  - RFC 3581 §4: with `rport`, `rport=<source port>` and `received` even when the host matches.
// A `received` or `rport` value written by the sender itself is replaced, never trusted: responses
// must only ever go back to the address the request really came from. Returns false when the
// message has no top Via to stamp.
bool stamp_top_via(SipMessage& request, const boost::asio::ip::address& source_ip, std::uint16_t source_port);

struct ResponseRoute {
  TransportKind kind = TransportKind::kUdp;
  boost::asio::ip::address address;
  std::uint16_t port = 0;
};

// Where a response goes when it cannot use the request's connection (RFC 3261 §18.2.2, RFC 3581 §4):
//  - reliable: `received` (else the sent-by host) at the sent-by port (default 5060, 5061 for TLS);
//  - unreliable with rport: `received` (else the source IP) at the rport value (else the source port);
//  - unreliable otherwise: `received` (else the sent-by host) at the sent-by port (default 5060).
// `maddr` is ignored: no multicast here. The error says why no route exists (a hostname sent-by
// without `received`, port 0, ...).
std::expected<ResponseRoute, std::string> response_route(const Via& via, const PeerAddress& source);

}  // namespace chorus::sip
