// TickSetRing: the sockets a ticking engine reads at its tick (ReadinessPoller's kAtTick set), read
// through one io_uring instead of one epoll_wait(2) and one recvmmsg(2) per readable socket.
//
// Why: the audio MCU reads each member's socket once a tick, and each member has its own socket
// (its own port, RFC 3550 §11), so at 800 G.711 members the tick made 800 recvmmsg calls and an
// epoll_wait, 40,000 system calls a second, to take one ~200-octet datagram from each. On the VMs
// Chorus is measured on (a PVM guest) a system call costs more than the receive it carries
// (issue 13: G.711 at 2,000 participants per core; bench/RESULTS.md).
//
// How: each socket has one multishot recvmsg armed on the ring (kernel 6.0), taking its datagrams
// into buffers the ring provides (a buffer ring, 5.19). The ring is set up with DEFER_TASKRUN (6.1):
// a datagram's arrival only notes the socket; the receives run when the owner asks, in poll(), all
// in the one io_uring_enter(2). So, as with the epoll set it replaces, nothing is read and no thread
// is woken between ticks, and a tick's reads cost one system call whatever the number of members.
// Each datagram is handed to poll()'s caller with the socket's key, then its buffer goes back to the
// ring.
//
// Limits: kBuffers datagrams (4 MiB) are held between two returns of buffers. A multishot receive that finds
// no buffer ends (ENOBUFS, counted as a shortfall) and is armed again once the buffers are back; its
// datagrams wait in the socket meanwhile, so a flood of one socket delays the others by a pass at
// most, and poll() runs at most kPassesPerPoll passes.
//
// Without a kernel that has all three (or with io_uring disabled, or refused by a seccomp profile)
// open() returns null and the poller keeps its epoll set.
//
// Threading: the thread that opened it, only (IORING_SETUP_SINGLE_ISSUER).
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

namespace chorus::media {

// One datagram the ring took: [0, length) of `buffer`, which its reader may modify (an SRTP
// unprotect in place) until it returns. `truncated`: it was longer than the buffer, so `length`
// (its real length) exceeds buffer.size(). `source` points to room the size of a sockaddr_storage.
struct TakenDatagram {
  std::span<std::uint8_t> buffer;
  std::size_t length = 0;
  const sockaddr* source = nullptr;
  socklen_t source_length = 0;
  bool truncated = false;
};

struct TickSetRingStats {
  std::uint64_t datagrams = 0;    // handed to poll()'s callers
  std::uint64_t shortfalls = 0;   // receives that found no buffer free, then armed again
  std::uint64_t rearms = 0;       // receives armed again after they ended (a shortfall included)
  std::uint64_t failures = 0;     // receives that ended with another error: not armed again (take_failed)
  std::uint64_t enter_calls = 0;  // io_uring_enter(2) calls poll() made
};

class TickSetRing {
 public:
  using Key = std::uint64_t;  // the caller's name for a socket; below 2^48
  using Deliver = std::function<void(Key, const TakenDatagram&)>;

  static constexpr std::size_t kBuffers = 2048;     // a power of two (the buffer ring's size)
  static constexpr std::size_t kBufferSize = 2048;  // its datagram's header, source and bytes
  static constexpr std::size_t kPassesPerPoll = 4;  // passes of one poll() (shortfalls re-armed between)

  // Null when the kernel cannot (logged once per process). `buffers`: a power of two up to 2^15.
  [[nodiscard]] static std::unique_ptr<TickSetRing> open(std::size_t buffers = kBuffers);

  TickSetRing(const TickSetRing&) = delete;
  TickSetRing& operator=(const TickSetRing&) = delete;
  ~TickSetRing();

  // Starts taking `fd`'s datagrams for `key` (one key per socket at a time). False when the ring
  // cannot take one more (its submission queue full and the kernel refusing the submit).
  bool arm(int fd, Key key);
  // Stops taking the datagrams of `key`'s socket: a datagram already taken but not yet handed out is
  // dropped, one still in the socket stays there. Cancelling an armed receive completes in the
  // kernel before this returns, so the socket may go to another key at once.
  void disarm(Key key);
  // Runs the receives the sockets' arrivals asked for and hands each datagram to `deliver`, which
  // may arm and disarm (its own key included). The number of datagrams handed out.
  std::size_t poll(const Deliver& deliver);
  // The keys whose receive failed for good since the last call (an error other than a shortfall;
  // logged): no longer armed, their sockets are the caller's to read another way.
  [[nodiscard]] std::vector<Key> take_failed() { return std::exchange(failed_, {}); }

  [[nodiscard]] std::size_t armed() const { return arms_.size(); }
  [[nodiscard]] const TickSetRingStats& stats() const { return stats_; }

 private:
  struct Kernel;  // the io_uring, its buffer ring and the buffers (tick_set_ring.cpp)
  struct Arm {
    int fd;
    std::uint16_t generation;  // tells a receive armed again from the one before it
  };

  explicit TickSetRing(std::unique_ptr<Kernel> kernel);
  // One pass: the completions the kernel has posted; `rearm` gets the keys whose receive ended.
  std::size_t reap(const Deliver& deliver, std::vector<Key>& rearm);
  bool submit_receive(int fd, Key key, std::uint16_t generation);

  std::unique_ptr<Kernel> kernel_;
  std::unordered_map<Key, Arm> arms_;
  std::uint16_t next_generation_ = 0;
  std::vector<Key> failed_;
  TickSetRingStats stats_;
};

}  // namespace chorus::media
