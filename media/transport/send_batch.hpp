// SendBatch: the datagrams a media worker's engine sends in one burst — the audio MCU's tick, one
// packet per listener, each on the listener's own socket — handed to the kernel with one
// io_uring_enter(2) instead of one sendto(2) each.
//
// Why: sendmmsg(2) batches only datagrams of one socket, and every member of a room has its own
// socket (its own port, RFC 3550 §11). On the VMs Chorus is measured on (a PVM guest, page-table
// isolation on) a system call costs more than the UDP send it carries: 800 sendto(2) on loopback
// took 3.7 µs each, the same 800 submitted as one io_uring batch 1.2 µs (issue 13, G.711 at 2,000
// participants per core; bench/RESULTS.md). The kernel still sends each datagram on its socket, in
// queue order, with the same checks.
//
// Use: open() at the start of the burst; MediaComponent::send_datagram offers each datagram with
// queue() (which copies it: the caller's buffer is reused for the next listener) and sends it
// itself when queue() declines; flush() at the end submits what was queued, waits for the
// completions and counts them (MediaCounters::packets_out, dropped_send). A burst longer than
// kCapacity is submitted in parts as it goes.
// Never blocking: each send carries MSG_DONTWAIT, so a socket whose buffer is full completes at once
// with EAGAIN (counted as dropped, as sendto would have been) instead of waiting for room.
// Without io_uring (an old kernel, io_uring_disabled, a container's seccomp profile refusing
// io_uring_setup): queue() always declines, so every datagram goes out by sendto(2) as before;
// logged once at start.
//
// Threading: the worker's thread only.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "media/transport/media_counters.hpp"

namespace chorus::media {

class SendBatch {
 public:
  static constexpr std::size_t kCapacity = 512;  // datagrams per submission

  // `use_io_uring` false: never batch (the tests of the fallback; a worker that does not tick).
  explicit SendBatch(MediaCounters& counters, bool use_io_uring = true);
  SendBatch(const SendBatch&) = delete;
  SendBatch& operator=(const SendBatch&) = delete;
  ~SendBatch();

  // An io_uring is open: queue() takes datagrams between open() and flush().
  [[nodiscard]] bool available() const;

  // Starts a burst; a no-op without io_uring.
  void open();
  // Copies the datagram for `fd` to `address` into the burst: true when taken (it leaves at the
  // next flush, or now if the burst is full). False outside a burst, without io_uring, or for a
  // datagram larger than a slot: the caller sends it itself.
  bool queue(int fd, std::span<const std::uint8_t> datagram, const sockaddr* address, socklen_t length);
  // Sends what was queued and ends the burst.
  void flush();

  [[nodiscard]] std::size_t queued() const { return queued_; }
  [[nodiscard]] bool is_open() const { return open_; }

 private:
  struct Ring;  // the io_uring and its slots (send_batch.cpp)

  void submit();

  MediaCounters& counters_;
  std::unique_ptr<Ring> ring_;  // null: no io_uring
  bool open_ = false;
  std::size_t queued_ = 0;  // slots filled since the last submission
};

// A burst for one scope — the datagrams a media component's read round makes the worker send (the
// echo room's echoes, the SFU's forwards, STUN and DTLS answers) — opened at construction and
// flushed at destruction. It does nothing without a batch, without io_uring, or inside a burst the
// caller already opened (the audio tick's): that burst's owner flushes it.
class ScopedSendBurst {
 public:
  explicit ScopedSendBurst(SendBatch* batch)
      : batch_(batch != nullptr && batch->available() && !batch->is_open() ? batch : nullptr) {
    if (batch_ != nullptr) batch_->open();
  }
  ScopedSendBurst(const ScopedSendBurst&) = delete;
  ScopedSendBurst& operator=(const ScopedSendBurst&) = delete;
  ~ScopedSendBurst() {
    if (batch_ != nullptr) batch_->flush();
  }

 private:
  SendBatch* batch_;
};

}  // namespace chorus::media
