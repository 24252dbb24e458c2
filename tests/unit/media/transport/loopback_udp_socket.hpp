// For the transport tests (readiness_poller_test, send_batch_test): a bound, non-blocking UDP
// socket on 127.0.0.1 at a port the kernel picks, closed with the object.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

namespace chorus::media::testing {

class LoopbackUdpSocket {
 public:
  LoopbackUdpSocket() : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    socklen_t length = sizeof address_;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address_), &length);
  }
  LoopbackUdpSocket(const LoopbackUdpSocket&) = delete;
  LoopbackUdpSocket& operator=(const LoopbackUdpSocket&) = delete;
  ~LoopbackUdpSocket() { ::close(fd_); }

  [[nodiscard]] int fd() const { return fd_; }
  [[nodiscard]] const sockaddr* address() const { return reinterpret_cast<const sockaddr*>(&address_); }

  // One datagram of one octet to `to`.
  void send_to(const LoopbackUdpSocket& to) const {
    const char byte = 'x';
    ::sendto(fd_, &byte, 1, 0, to.address(), sizeof to.address_);
  }
  // One datagram, if any.
  [[nodiscard]] bool read_one() const {
    char byte = 0;
    return ::recv(fd_, &byte, 1, MSG_DONTWAIT) == 1;
  }
  // The first octet of each datagram waiting, in arrival order.
  [[nodiscard]] std::vector<std::uint8_t> read_all() const {
    std::vector<std::uint8_t> firsts;
    std::array<std::uint8_t, 64> buffer{};
    // Bounded: a loopback socket's queue holds what was sent before the call, no more.
    for (int i = 0; i < 100'000; ++i) {
      if (::recv(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT) <= 0) break;
      firsts.push_back(buffer[0]);
    }
    return firsts;
  }

 private:
  int fd_;
  sockaddr_in address_{};
};

}  // namespace chorus::media::testing
