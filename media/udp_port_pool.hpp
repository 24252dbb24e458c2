// UdpPortPool: RTP/RTCP port pairs from the --rtp-ports range, bound on --bind.
//
// A lease holds two bound UDP sockets, RTP on an even port and RTCP on the next odd one
// (RFC 3550 §11), and gives the pair back to the pool when it is destroyed. Ports that another
// process holds are skipped. An empty pool is an ordinary outcome (the call gets 503), not an error.
//
// Pairs are drawn at random from the free ones (getrandom), not in order: a stranger who learns
// one call's port must not be able to guess the next call's (RFC 3550 §9.1 and RFC 7362 §4 on
// hijacking plain RTP by spraying the range). A released pair rests — it is not drawn again until
// half the pool has been released after it, or nothing else is free — so late packets of an ended
// call do not land in the next one. Each socket asks the kernel for a receive buffer sized for
// media (`receive_buffer`, SO_RCVBUF); when the kernel caps it (net.core.rmem_max) the pool says
// so once in the log. Each socket is marked with `marking` (issue 15: audio's class, EF — every
// call's audio goes through one; MediaSession re-marks a video-only transport, media_marking.hpp);
// a refused mark is counted and logged once, and the port serves unmarked.
// Threading: the pool is used from the control loop only; a lease's sockets are handed to the
// media worker that serves the call (media transport issue).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/dscp.hpp"

namespace chorus::media {

class UdpPortPool;

// What a media socket asks the kernel for (SO_RCVBUF): about 1 s of a 8 Mbit/s video stream.
inline constexpr std::size_t kDefaultReceiveBuffer = std::size_t{1} << 20;

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
  // `receive_buffer` is the SO_RCVBUF each socket asks for (0: the kernel's default); `marking` the
  // DSCP every socket is bound with (none: the kernel's default).
  UdpPortPool(std::string bind_address, std::uint16_t first, std::uint16_t last,
              std::size_t receive_buffer = kDefaultReceiveBuffer, SocketMarking marking = {});
  UdpPortPool(const UdpPortPool&) = delete;
  UdpPortPool& operator=(const UdpPortPool&) = delete;

  // A bound RTP/RTCP pair drawn at random, or nullptr when every pair is leased or unbindable.
  std::unique_ptr<PortLease> allocate();

  [[nodiscard]] std::size_t leased_pairs() const { return leased_; }
  [[nodiscard]] std::size_t bound_ports() const { return leased_ * 2; }
  [[nodiscard]] std::size_t capacity_pairs() const { return capacity_; }
  // The receive buffer the kernel granted the last socket bound (getsockopt; Linux reports twice
  // what it grants for bookkeeping), 0 before any.
  [[nodiscard]] std::size_t granted_receive_buffer() const { return granted_receive_buffer_; }

 private:
  friend class PortLease;
  void give_back(std::uint16_t rtp_port);
  int bind_udp(std::uint16_t port);
  void size_receive_buffer(int fd);
  // Removes and returns a random free pair (resting ones rejoin when nothing else is free).
  std::optional<std::uint16_t> draw();

  std::string bind_address_;
  std::size_t receive_buffer_;
  SocketMarking marking_;
  std::size_t granted_receive_buffer_ = 0;
  bool capped_logged_ = false;
  std::vector<std::uint16_t> free_;    // drawn from at random
  std::deque<std::uint16_t> resting_;  // released or unbindable, oldest first
  std::size_t capacity_ = 0;
  std::size_t leased_ = 0;
};

}  // namespace chorus::media
