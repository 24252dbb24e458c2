// UdpPortPool: RTP/RTCP port pairs from the --rtp-ports range, bound on --bind.
//
// A lease holds two bound UDP sockets, RTP on an even port and RTCP on the next odd one
// (RFC 3550 §11), and gives the pair back to the pool when the last holder lets go of it (the call on
// the control loop, its media session on a worker: see MediaSessionSpec::sockets_owner). Ports that
// another process holds are skipped. An empty pool is an ordinary outcome (the call gets 503), not an
// error.
//
// Pairs are drawn at random from the free ones (getrandom), not in order: a stranger who learns
// one call's port must not be able to guess the next call's (RFC 3550 §9.1 and RFC 7362 §4 on
// hijacking plain RTP by spraying the range). A released pair rests — it is not drawn again until
// half the pool has been released after it, or nothing else is free — so late packets of an ended
// call do not land in the next one. Each socket asks the kernel for a receive buffer sized for
// media (`receive_buffer`, SO_RCVBUF); when the kernel caps it (net.core.rmem_max) the pool says
// so once in the log. Each socket is marked with `marking` (issue 15: audio's class, EF — every
// call's audio goes through one; MediaSession re-marks a video-only transport and marks it back when
// it ends, media_marking.hpp);
// a refused mark is counted and logged once, and the port serves unmarked.
//
// Warm pairs (issue 13, SIP calls per CPU-second): up to `warm_limit` released pairs keep their
// sockets open instead of closing them, and a later lease takes them as they are. Opening, sizing,
// marking and binding two sockets and closing them again was a dozen system calls per call, and the
// largest kernel share of a join after the SIP datagrams themselves. A warm pair waits *parked*:
// connected to its own address, so the kernel delivers it nothing (a datagram from anyone else finds
// no socket and is refused with ICMP, as on a closed port) and an attacker spraying the range cannot
// fill idle buffers; what was queued before parking is read away at once. Drawing one disconnects it
// (connect AF_UNSPEC, which keeps the explicit bind). Resting and the random draw are the same for
// warm and cold pairs.
// Threading: allocate() and the accessors on the control loop; a lease may be destroyed on any
// thread (its give-back goes through a mutex-guarded shelf the pool empties on its next draw).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/dscp.hpp"
#include "media/transport/socket_address.hpp"

namespace chorus::media {

class UdpPortPool;
struct ReturnShelf;  // udp_port_pool.cpp: released pairs on their way back to the pool

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
  // The sockets' address family (AF_INET, AF_INET6) and the DSCP they are marked with (nullopt:
  // none, or the kernel refused one): what MediaSessionSpec::sockets_family/sockets_dscp take.
  [[nodiscard]] int family() const { return family_; }
  [[nodiscard]] std::optional<std::uint8_t> dscp() const { return dscp_; }

 private:
  friend class UdpPortPool;
  PortLease(std::shared_ptr<ReturnShelf> shelf, std::uint16_t rtp_port, int rtp_fd, int rtcp_fd, int family,
            std::optional<std::uint8_t> dscp)
      : shelf_(std::move(shelf)),
        rtp_port_(rtp_port),
        rtp_fd_(rtp_fd),
        rtcp_fd_(rtcp_fd),
        family_(family),
        dscp_(dscp) {}
  std::shared_ptr<ReturnShelf> shelf_;
  std::uint16_t rtp_port_;
  int rtp_fd_;
  int rtcp_fd_;
  int family_;
  std::optional<std::uint8_t> dscp_;
};

class UdpPortPool {
 public:
  // `first`..`last` inclusive; `first` is rounded up to even. The bind address is an IP literal.
  // `receive_buffer` is the SO_RCVBUF each socket asks for (0: the kernel's default); `marking` the
  // DSCP every socket is bound with (none: the kernel's default); `warm_limit` how many released
  // pairs may stay open for reuse (0: every released pair is closed).
  UdpPortPool(std::string bind_address, std::uint16_t first, std::uint16_t last,
              std::size_t receive_buffer = kDefaultReceiveBuffer, SocketMarking marking = {},
              std::size_t warm_limit = 0);
  UdpPortPool(const UdpPortPool&) = delete;
  UdpPortPool& operator=(const UdpPortPool&) = delete;
  ~UdpPortPool();  // closes the warm pairs; leases still out close theirs when they end

  // A bound RTP/RTCP pair drawn at random, or nullptr when every pair is leased or unbindable.
  std::unique_ptr<PortLease> allocate();

  [[nodiscard]] std::size_t leased_pairs() const;
  [[nodiscard]] std::size_t bound_ports() const { return leased_pairs() * 2; }
  // Released pairs whose sockets are open, parked for reuse (at most `warm_limit`).
  [[nodiscard]] std::size_t warm_pairs() const;
  [[nodiscard]] std::size_t capacity_pairs() const { return capacity_; }
  // The receive buffer the kernel granted the last socket bound (getsockopt; Linux reports twice
  // what it grants for bookkeeping), 0 before any.
  [[nodiscard]] std::size_t granted_receive_buffer() const { return granted_receive_buffer_; }

 private:
  struct Sockets {
    int rtp = -1;
    int rtcp = -1;
  };
  // Moves what leases gave back since the last draw into resting_, keeping warm sockets in warm_.
  void take_back_released();
  void rest(std::uint16_t rtp_port);
  // The parked sockets of `rtp_port`'s pair, taken out of warm_, if it has them.
  std::optional<Sockets> take_warm(std::uint16_t rtp_port);
  int bind_udp(std::uint16_t port);
  void size_receive_buffer(int fd);
  // Removes and returns a random free pair (resting ones rejoin when nothing else is free).
  std::optional<std::uint16_t> draw();

  std::optional<TransportAddress> bind_address_;  // parsed once; nullopt: not an IP literal, nothing binds
  std::uint16_t first_port_ = 0;
  std::size_t receive_buffer_;
  int socket_family_;  // AF_INET or AF_INET6, of bind_address_ (0 without one)
  SocketMarking marking_;
  bool mark_refused_ = false;  // the kernel refused marking_ once: leases do not vouch for a mark
  std::size_t granted_receive_buffer_ = 0;
  bool capped_logged_ = false;
  std::vector<std::uint16_t> free_;    // drawn from at random
  std::deque<std::uint16_t> resting_;  // released or unbindable, oldest first
  std::vector<Sockets> warm_;          // by pair index: the parked sockets of a warm pair, else -1
  std::size_t capacity_ = 0;
  std::shared_ptr<ReturnShelf> shelf_;
};

}  // namespace chorus::media
