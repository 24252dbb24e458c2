#include "media/transport/send_batch.hpp"

#include <liburing.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include "common/log.hpp"
#include "media/srtp/srtp_session.hpp"
#include "media/transport/media_environment.hpp"

namespace chorus::media {

// One queued datagram: its bytes, where it goes, and the msghdr the kernel reads both from. The
// slots never move (a vector sized once), so the pointers in msghdr stay valid while in flight.
struct SendBatchSlot {
  std::array<std::uint8_t, kMaxDatagramSize + kSrtcpMaxTrailer> bytes;
  sockaddr_storage address;
  iovec vector;
  msghdr message;
};

struct SendBatch::Ring {
  io_uring ring{};
  std::vector<SendBatchSlot> slots;
};

SendBatch::SendBatch(MediaCounters& counters, bool use_io_uring) : counters_(counters) {
  if (!use_io_uring) return;
  auto ring = std::make_unique<Ring>();
  if (const int error = io_uring_queue_init(kCapacity, &ring->ring, 0); error < 0) {
    CHORUS_LOG(kInfo, "media", "io_uring unavailable: each datagram of a tick is its own sendto",
               {"error", std::strerror(-error)});
    return;
  }
  ring->slots.resize(kCapacity);
  ring_ = std::move(ring);
}

SendBatch::~SendBatch() {
  if (!ring_) return;
  flush();  // nothing is left in flight when the slots go
  io_uring_queue_exit(&ring_->ring);
}

bool SendBatch::available() const {
  return ring_ != nullptr;
}

void SendBatch::open() {
  open_ = ring_ != nullptr;
}

bool SendBatch::queue(int fd, std::span<const std::uint8_t> datagram, const sockaddr* address, socklen_t length) {
  if (!open_ || datagram.size() > sizeof(SendBatchSlot::bytes) || length > sizeof(sockaddr_storage)) return false;
  if (queued_ == kCapacity) submit();
  io_uring_sqe* entry = io_uring_get_sqe(&ring_->ring);
  if (entry == nullptr) return false;  // cannot happen after submit(); the caller sends it itself
  SendBatchSlot& slot = ring_->slots[queued_++];
  std::memcpy(slot.bytes.data(), datagram.data(), datagram.size());
  std::memcpy(&slot.address, address, length);
  slot.vector = iovec{slot.bytes.data(), datagram.size()};
  slot.message = msghdr{};
  slot.message.msg_name = &slot.address;
  slot.message.msg_namelen = length;
  slot.message.msg_iov = &slot.vector;
  slot.message.msg_iovlen = 1;
  // MSG_DONTWAIT: a full socket completes with EAGAIN at once rather than waiting for room.
  io_uring_prep_sendmsg(entry, fd, &slot.message, MSG_DONTWAIT);
  io_uring_sqe_set_data64(entry, datagram.size());
  return true;
}

void SendBatch::flush() {
  if (queued_ > 0) submit();
  open_ = false;
}

// Submits the queued sends, waits for every completion (each is immediate: MSG_DONTWAIT on a
// datagram socket never parks), and counts them.
void SendBatch::submit() {
  const auto wanted = static_cast<unsigned>(queued_);
  queued_ = 0;
  int submitted = io_uring_submit_and_wait(&ring_->ring, wanted);
  // A signal may end the wait, not the sends (submitted inline); waiting again reaps them.
  for (int retry = 0; submitted == -EINTR && retry < 3; ++retry)
    submitted = io_uring_submit_and_wait(&ring_->ring, wanted);
  if (submitted < 0) CHORUS_LOG(kWarn, "media", "io_uring submit failed", {"error", std::strerror(-submitted)});
  unsigned completed = 0;
  // Bounded: at most `wanted` completions were asked for; a failed submit leaves none to reap.
  while (completed < wanted) {
    io_uring_cqe* completion = nullptr;
    if (io_uring_peek_cqe(&ring_->ring, &completion) != 0 || completion == nullptr) break;
    const bool sent = completion->res >= 0 && static_cast<std::uint64_t>(completion->res) == completion->user_data;
    MediaCounters::bump(sent ? counters_.packets_out : counters_.dropped_send);
    io_uring_cqe_seen(&ring_->ring, completion);
    ++completed;
  }
  if (completed < wanted) MediaCounters::bump(counters_.dropped_send, wanted - completed);
}

}  // namespace chorus::media
