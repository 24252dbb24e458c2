// A run of UDP ports on 127.0.0.1 that are free right now, chosen at random so tests that run in
// parallel (ctest -j, one process per test) and a chorusd started by an integration test do not
// collide on fixed numbers.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <random>
#include <stdexcept>

namespace chorus::test {

inline bool udp_port_is_free(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return free;
}

// The first port of `count` consecutive free UDP ports; the first is even (RTP, RFC 3550 §11).
inline std::uint16_t free_udp_range(unsigned count) {
  std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<unsigned> start(20000, 30000);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const unsigned first = 2 * start(rng);  // 40000..60000, even
    bool all_free = true;
    for (unsigned p = first; p < first + count && all_free; ++p)
      all_free = udp_port_is_free(static_cast<std::uint16_t>(p));
    if (all_free) return static_cast<std::uint16_t>(first);
  }
  throw std::runtime_error("no free UDP port range found");
}

}  // namespace chorus::test
