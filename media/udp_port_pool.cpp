#include "media/udp_port_pool.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace chorus::media {

PortLease::~PortLease() {
  ::close(rtp_fd_);
  ::close(rtcp_fd_);
  pool_->give_back(rtp_port_);
}

UdpPortPool::UdpPortPool(std::string bind_address, std::uint16_t first, std::uint16_t last)
    : bind_address_(std::move(bind_address)) {
  const unsigned start = first + (first % 2);
  for (unsigned port = start; port + 1 <= last; port += 2) free_.push_back(static_cast<std::uint16_t>(port));
  capacity_ = free_.size();
}

int UdpPortPool::bind_udp(std::uint16_t port) const {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_INET;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (::inet_pton(AF_INET, bind_address_.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    length = sizeof(sockaddr_in);
  } else if (::inet_pton(AF_INET6, bind_address_.c_str(), &v6->sin6_addr) == 1) {
    family = AF_INET6;
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    length = sizeof(sockaddr_in6);
  } else {
    return -1;
  }
  int fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::unique_ptr<PortLease> UdpPortPool::allocate() {
  // Each free pair is tried at most once per call; pairs held by other processes go to the back.
  for (std::size_t tries = free_.size(); tries > 0; --tries) {
    const std::uint16_t port = free_.front();
    free_.pop_front();
    const int rtp = bind_udp(port);
    const int rtcp = rtp >= 0 ? bind_udp(static_cast<std::uint16_t>(port + 1)) : -1;
    if (rtp >= 0 && rtcp >= 0) {
      ++leased_;
      return std::unique_ptr<PortLease>(new PortLease(*this, port, rtp, rtcp));
    }
    if (rtp >= 0) ::close(rtp);
    free_.push_back(port);
  }
  return nullptr;
}

void UdpPortPool::give_back(std::uint16_t rtp_port) {
  --leased_;
  free_.push_back(rtp_port);
}

}  // namespace chorus::media
