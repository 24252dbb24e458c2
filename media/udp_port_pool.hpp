// UdpPortPool: RTP/RTCP port pairs from the --rtp-ports range, bound on --bind.
//
// A lease holds two bound UDP sockets, RTP on an even port and RTCP on the next odd one
// (RFC 3550 §11), and gives the pair back to the pool when it is destroyed. Ports that another
// process holds are skipped. An empty pool is an ordinary outcome (the call gets 503), not an error.
// Threading: the pool is used from the control loop only; a lease's sockets are handed to the
// media worker that serves the call (media transport issue).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

namespace chorus::media {

class UdpPortPool;

class PortLease {
 public:
  PortLease(const PortLease&) = delete;
  PortLease& operator=(const PortLease&) = delete;
  ~PortLease();

  [[nodiscard]] std::uint16_t rtp_port() const { return rtp_port_; }
  [[nodiscard]] std::uint16_t rtcp_port() const { return static_cast<std::uint16_t>(rtp_port_ + 1); }
  [[nodiscard]] int rtp_fd() const { return rtp_fd_; }
  [[nodiscard]] int rtcp_fd() const { return rtcp_fd_; }

 private:
  friend class UdpPortPool;
  PortLease(UdpPortPool& pool, std::uint16_t rtp_port, int rtp_fd, int rtcp_fd)
      : pool_(&pool), rtp_port_(rtp_port), rtp_fd_(rtp_fd), rtcp_fd_(rtcp_fd) {}
  UdpPortPool* pool_;
  std::uint16_t rtp_port_;
  int rtp_fd_;
  int rtcp_fd_;
};

class UdpPortPool {
 public:
  // `first`..`last` inclusive; `first` is rounded up to even. The bind address is an IP literal.
  UdpPortPool(std::string bind_address, std::uint16_t first, std::uint16_t last);
  UdpPortPool(const UdpPortPool&) = delete;
  UdpPortPool& operator=(const UdpPortPool&) = delete;

  // A bound RTP/RTCP pair, or nullptr when every pair is leased or unbindable.
  std::unique_ptr<PortLease> allocate();

  [[nodiscard]] std::size_t leased_pairs() const { return leased_; }
  [[nodiscard]] std::size_t bound_ports() const { return leased_ * 2; }
  [[nodiscard]] std::size_t capacity_pairs() const { return capacity_; }

 private:
  friend class PortLease;
  void give_back(std::uint16_t rtp_port);
  int bind_udp(std::uint16_t port) const;

  std::string bind_address_;
  std::deque<std::uint16_t> free_;  // least recently used first, so a port rests before reuse
  std::size_t capacity_ = 0;
  std::size_t leased_ = 0;
};

}  // namespace chorus::media
