#include "media/transport/socket_address.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace chorus::media {

std::optional<TransportAddress> parse_transport_address(std::string_view ip, std::uint16_t port) {
  if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  if (ip.empty() || ip.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char text[INET6_ADDRSTRLEN] = {};
  std::memcpy(text, ip.data(), ip.size());
  in_addr v4{};
  if (::inet_pton(AF_INET, text, &v4) == 1) {
    std::array<std::uint8_t, 4> bytes{};
    std::memcpy(bytes.data(), &v4, 4);
    return TransportAddress::ipv4(bytes, port);
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, text, &v6) == 1) {
    std::array<std::uint8_t, 16> bytes{};
    std::memcpy(bytes.data(), &v6, 16);
    return TransportAddress::ipv6(bytes, port);
  }
  return std::nullopt;
}

std::optional<TransportAddress> from_sockaddr(const sockaddr_storage& address, socklen_t length) {
  if (address.ss_family == AF_INET && length >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
    std::array<std::uint8_t, 4> bytes{};
    std::memcpy(bytes.data(), &v4.sin_addr, 4);
    return TransportAddress::ipv4(bytes, ntohs(v4.sin_port));
  }
  if (address.ss_family == AF_INET6 && length >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
    std::array<std::uint8_t, 16> bytes{};
    std::memcpy(bytes.data(), &v6.sin6_addr, 16);
    if (IN6_IS_ADDR_V4MAPPED(&v6.sin6_addr))
      return TransportAddress::ipv4({bytes[12], bytes[13], bytes[14], bytes[15]}, ntohs(v6.sin6_port));
    return TransportAddress::ipv6(bytes, ntohs(v6.sin6_port));
  }
  return std::nullopt;
}

SockaddrBuffer to_sockaddr(const TransportAddress& address, bool for_ipv6_socket) {
  SockaddrBuffer out;
  if (address.family == stun::AddressFamily::kIpv4 && for_ipv6_socket) {
    auto& v6 = reinterpret_cast<sockaddr_in6&>(out.storage);
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(address.port);
    v6.sin6_addr.s6_addr[10] = 0xFF;
    v6.sin6_addr.s6_addr[11] = 0xFF;
    std::memcpy(&v6.sin6_addr.s6_addr[12], address.ip.data(), 4);
    out.length = sizeof(sockaddr_in6);
  } else if (address.family == stun::AddressFamily::kIpv4) {
    auto& v4 = reinterpret_cast<sockaddr_in&>(out.storage);
    v4.sin_family = AF_INET;
    v4.sin_port = htons(address.port);
    std::memcpy(&v4.sin_addr, address.ip.data(), 4);
    out.length = sizeof(sockaddr_in);
  } else {
    auto& v6 = reinterpret_cast<sockaddr_in6&>(out.storage);
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(address.port);
    std::memcpy(&v6.sin6_addr, address.ip.data(), 16);
    out.length = sizeof(sockaddr_in6);
  }
  return out;
}

std::string to_string(const TransportAddress& address) {
  char text[INET6_ADDRSTRLEN] = {};
  const bool v4 = address.family == stun::AddressFamily::kIpv4;
  ::inet_ntop(v4 ? AF_INET : AF_INET6, address.ip.data(), text, sizeof text);
  std::string out = v4 ? std::string(text) : "[" + std::string(text) + "]";
  return out + ":" + std::to_string(address.port);
}

}  // namespace chorus::media
