// Conversions between the media layer's address value (stun::TransportAddress, comparable and
// cheap to copy) and the sockaddr forms the kernel takes and gives.
// Threading: free functions over values.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <optional>
#include <string>
#include <string_view>

#include "media/stun/stun_message.hpp"

namespace chorus::media {

using stun::TransportAddress;

struct SockaddrBuffer {
  sockaddr_storage storage{};
  socklen_t length = 0;
  [[nodiscard]] const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

// An IP literal (IPv4, or IPv6 with or without brackets) and a port; nullopt for anything else,
// host names included: the media layer never resolves names.
std::optional<TransportAddress> parse_transport_address(std::string_view ip, std::uint16_t port);

// The kernel's sockaddr_in/sockaddr_in6 as a TransportAddress; an IPv4-mapped IPv6 address
// (::ffff:a.b.c.d) becomes IPv4 so it compares equal to the address the peer's SDP names.
std::optional<TransportAddress> from_sockaddr(const sockaddr_storage& address, socklen_t length);

// For an AF_INET6 socket (a dual-stack bind on "::") an IPv4 destination is written as the
// IPv4-mapped IPv6 address, the only form such a socket sends to.
SockaddrBuffer to_sockaddr(const TransportAddress& address, bool for_ipv6_socket = false);

// "192.0.2.1:5004" or "[2001:db8::1]:5004", for logs.
std::string to_string(const TransportAddress& address);

}  // namespace chorus::media
