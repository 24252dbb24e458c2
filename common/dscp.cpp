#include "common/dscp.hpp"

#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "common/log.hpp"

namespace chorus {

int socket_family(int fd) noexcept {
  sockaddr_storage local{};
  socklen_t length = sizeof local;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0) return AF_UNSPEC;
  return local.ss_family;
}

int set_socket_dscp(int fd, std::uint8_t dscp, int family) noexcept {
  const int octet = traffic_class_octet(dscp);
  if (family == 0) family = socket_family(fd);
  if (family == AF_INET6) {
    // ipv6(7) IPV6_TCLASS for IPv6 peers; a dual-stack socket reaches IPv4 peers through mapped
    // addresses, and those packets take IP_TOS (ip(7)), which Linux accepts on an IPv6 socket.
    if (::setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &octet, sizeof octet) != 0) return errno;
    ::setsockopt(fd, IPPROTO_IP, IP_TOS, &octet, sizeof octet);  // absent on an IPv6-only stack: harmless
    return 0;
  }
  if (family != AF_INET) return family == AF_UNSPEC ? errno : EAFNOSUPPORT;
  return ::setsockopt(fd, IPPROTO_IP, IP_TOS, &octet, sizeof octet) == 0 ? 0 : errno;
}

std::optional<std::uint8_t> socket_dscp(int fd) noexcept {
  const int family = socket_family(fd);
  int octet = 0;
  socklen_t length = sizeof octet;
  const bool read = family == AF_INET6 ? ::getsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &octet, &length) == 0
                                       : ::getsockopt(fd, IPPROTO_IP, IP_TOS, &octet, &length) == 0;
  if (!read || (family != AF_INET && family != AF_INET6)) return std::nullopt;
  return static_cast<std::uint8_t>((octet >> 2) & kDscpMax);
}

void DscpFailures::record(int error, std::string_view traffic) {
  bump(count_);
  if (logged_.exchange(true, std::memory_order_relaxed)) return;
  CHORUS_LOG(kWarn, "qos",
             "the kernel refused a DSCP mark; such traffic goes out unmarked (counted in "
             "chorus_dscp_mark_failures_total, logged once)",
             {"traffic", traffic}, {"error", std::strerror(error)});
}

bool mark_socket(int fd, std::uint8_t dscp, DscpFailures* failures, std::string_view traffic, int family) {
  const int error = set_socket_dscp(fd, dscp, family);
  if (error == 0) return true;
  if (failures != nullptr) failures->record(error, traffic);
  return false;
}

}  // namespace chorus
