// A phone for media session tests: one UDP socket on loopback that sends RTP (plain, or SRTP when
// keyed) and raw datagrams to a session, and receives what the session sends back. Every receive
// waits at most its bound.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <optional>
#include <span>
#include <vector>

#include <gtest/gtest.h>

#include "media/srtp/srtp_session.hpp"
#include "media/transport/socket_address.hpp"

namespace chorus::media {

using namespace std::chrono_literals;

constexpr std::uint32_t kPhoneSsrc = 0x0000beef;

inline std::vector<std::uint8_t> key(std::uint8_t seed) {
  std::vector<std::uint8_t> out(30);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::uint8_t>(seed + i);
  return out;
}

// A phone: one UDP socket on loopback, with its own SRTP sessions when keyed.
class Phone {
 public:
  Phone() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    auto any = to_sockaddr(*parse_transport_address("127.0.0.1", 0));
    EXPECT_EQ(::bind(fd_, any.get(), any.length), 0);
    sockaddr_storage local{};
    socklen_t length = sizeof local;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &length);
    address_ = *from_sockaddr(local, length);
  }
  ~Phone() { ::close(fd_); }
  Phone(const Phone&) = delete;
  Phone& operator=(const Phone&) = delete;

  void key_with(std::vector<std::uint8_t> ours, std::vector<std::uint8_t> server,
                SrtpSuite suite = SrtpSuite::kAesCm128HmacSha1_80) {
    out_ = *SrtpSession::create(suite, ours, SrtpDirection::kOutbound);
    in_ = *SrtpSession::create(suite, server, SrtpDirection::kInbound);
  }

  // One raw datagram within `wait` (no decryption), for DTLS and STUN.
  std::vector<std::uint8_t> receive_raw(std::chrono::milliseconds wait = 2000ms) {
    pollfd ready{fd_, POLLIN, 0};
    if (::poll(&ready, 1, static_cast<int>(wait.count())) != 1) return {};
    std::array<std::uint8_t, 2048> buffer{};
    const ssize_t got = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (got <= 0) return {};
    return {buffer.begin(), buffer.begin() + got};
  }

  // An RTP packet (PCMU, 160 octets of `fill`), protected when keyed; returns what went out.
  std::vector<std::uint8_t> send_rtp(const TransportAddress& to, std::uint16_t sequence, std::uint8_t fill = 0x55) {
    alignas(16) std::array<std::uint8_t, 512> buffer{};
    const std::array<std::uint8_t, 12> header{
        0x80, 0x00, static_cast<std::uint8_t>(sequence >> 8), static_cast<std::uint8_t>(sequence), 0, 0, 0, 160, 0, 0,
        0xbe, 0xef};
    std::copy(header.begin(), header.end(), buffer.begin());
    std::fill_n(buffer.begin() + 12, 160, fill);
    std::size_t length = 172;
    if (out_) length = *out_->protect_rtp(buffer, length);
    std::vector<std::uint8_t> wire(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(length));
    send_raw(to, wire);
    return wire;
  }

  void send_raw(const TransportAddress& to, std::span<const std::uint8_t> datagram) const {
    auto address = to_sockaddr(to);
    ::sendto(fd_, datagram.data(), datagram.size(), 0, address.get(), address.length);
  }

  // The next datagram within `wait`, decrypted when keyed (empty when none or it fails).
  std::vector<std::uint8_t> receive(std::chrono::milliseconds wait = 2000ms) {
    pollfd ready{fd_, POLLIN, 0};
    if (::poll(&ready, 1, static_cast<int>(wait.count())) != 1) return {};
    alignas(16) std::array<std::uint8_t, 2048> buffer{};
    const ssize_t got = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (got <= 0) return {};
    std::size_t length = static_cast<std::size_t>(got);
    if (in_ && buffer[0] >= 128 && buffer[0] <= 191) {
      auto clear = in_->unprotect_rtp(buffer, length);
      if (!clear) return {};
      length = *clear;
    }
    return {buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(length)};
  }

  [[nodiscard]] const TransportAddress& address() const { return address_; }

 private:
  int fd_ = -1;
  TransportAddress address_;
  std::optional<SrtpSession> out_;
  std::optional<SrtpSession> in_;
};

inline std::uint32_t ssrc_of(std::span<const std::uint8_t> packet) {
  return (std::uint32_t{packet[8]} << 24) | (std::uint32_t{packet[9]} << 16) | (std::uint32_t{packet[10]} << 8) |
         packet[11];
}

}  // namespace chorus::media
