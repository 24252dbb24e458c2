#include "media/transport/tick_set_ring.hpp"

#include <liburing.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "common/log.hpp"
#include "media/transport/media_environment.hpp"

namespace chorus::media {
namespace {

constexpr unsigned kSubmissionEntries = 256;  // arms, re-arms and cancels between two submits
constexpr std::uint16_t kBufferGroup = 0;
// A cancel's own completion: never a receive's tag, whose key is below 2^48 - 1.
constexpr std::uint64_t kCancelTag = ~std::uint64_t{0};

std::uint64_t receive_tag(TickSetRing::Key key, std::uint16_t generation) {
  return (key << 16) | generation;
}

// Logged once per process: every worker would say the same.
void log_unavailable(const char* step, int error) {
  static std::atomic<bool> logged{false};
  if (logged.exchange(true)) return;
  CHORUS_LOG(kInfo, "media", "io_uring receive ring unavailable: the tick's sockets are read by recvmmsg",
             {"step", step}, {"error", std::strerror(error)});
}

void* map_anonymous(std::size_t bytes) {
  void* memory = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return memory == MAP_FAILED ? nullptr : memory;
}

}  // namespace

struct TickSetRing::Kernel {
  explicit Kernel(std::size_t buffer_count) : count(buffer_count) { shape.msg_namelen = sizeof(sockaddr_storage); }
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;
  ~Kernel() {
    // The ring's exit cancels every receive before the buffers go.
    if (ring_open) io_uring_queue_exit(&ring);
    if (buffer_ring != nullptr) ::munmap(buffer_ring, ring_bytes());
    if (buffers != nullptr) ::munmap(buffers, buffer_bytes());
  }

  [[nodiscard]] std::size_t ring_bytes() const { return count * sizeof(io_uring_buf); }
  [[nodiscard]] std::size_t buffer_bytes() const { return count * kBufferSize; }

  std::size_t count;  // buffers: a power of two
  io_uring ring{};
  bool ring_open = false;
  io_uring_buf_ring* buffer_ring = nullptr;  // the slots the kernel takes buffers from
  bool buffers_registered = false;
  std::uint8_t* buffers = nullptr;  // `count` of kBufferSize
  unsigned returned = 0;            // buffers given back since the last advance
  // What every receive is armed with: how much of a buffer the source address takes. The kernel
  // reads it when a receive is issued, so it lives as long as the ring.
  msghdr shape{};

  std::uint8_t* buffer(std::uint16_t id) const { return buffers + static_cast<std::size_t>(id) * kBufferSize; }

  void give_back(std::uint16_t id) {
    io_uring_buf_ring_add(buffer_ring, buffer(id), kBufferSize, id,
                          io_uring_buf_ring_mask(static_cast<std::uint32_t>(count)), static_cast<int>(returned++));
  }
  void publish_returns() {
    if (returned == 0) return;
    io_uring_buf_ring_advance(buffer_ring, static_cast<int>(returned));
    returned = 0;
  }

  // A free submission entry, submitting what is queued when there is none.
  io_uring_sqe* entry() {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    if (sqe != nullptr) return sqe;
    io_uring_submit(&ring);
    return io_uring_get_sqe(&ring);
  }
};

std::unique_ptr<TickSetRing> TickSetRing::open(std::size_t buffers) {
  if ((buffers & (buffers - 1)) != 0 || buffers == 0 || buffers > 32768) {
    log_unavailable("buffers", EINVAL);  // a buffer ring's size is a power of two, at most 2^15
    return nullptr;
  }
  // A datagram's bytes follow the receive's header and the source's room, 16-octet aligned (libsrtp
  // reads headers in words), and hold what a receive slot of the worker's scratch holds.
  static_assert((sizeof(io_uring_recvmsg_out) + sizeof(sockaddr_storage)) % 16 == 0);
  static_assert(kBufferSize - sizeof(io_uring_recvmsg_out) - sizeof(sockaddr_storage) >= kReceiveSlotSize);
  auto kernel = std::make_unique<Kernel>(buffers);
  io_uring_params params{};
  // SINGLE_ISSUER + DEFER_TASKRUN: receives run only inside the owner's io_uring_enter (poll()).
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE;
  params.cq_entries = static_cast<unsigned>(2 * std::max<std::size_t>(buffers, kSubmissionEntries));
  if (const int error = io_uring_queue_init_params(kSubmissionEntries, &kernel->ring, &params); error < 0) {
    log_unavailable("setup", -error);
    return nullptr;
  }
  kernel->ring_open = true;
  kernel->buffer_ring = static_cast<io_uring_buf_ring*>(map_anonymous(kernel->ring_bytes()));
  kernel->buffers = static_cast<std::uint8_t*>(map_anonymous(kernel->buffer_bytes()));
  if (kernel->buffer_ring == nullptr || kernel->buffers == nullptr) {
    log_unavailable("buffers", errno);
    return nullptr;
  }
  io_uring_buf_reg registration{};
  registration.ring_addr = reinterpret_cast<std::uint64_t>(kernel->buffer_ring);
  registration.ring_entries = static_cast<std::uint32_t>(buffers);
  registration.bgid = kBufferGroup;
  if (const int error = io_uring_register_buf_ring(&kernel->ring, &registration, 0); error < 0) {
    log_unavailable("buffer ring", -error);
    return nullptr;
  }
  io_uring_buf_ring_init(kernel->buffer_ring);
  for (std::size_t id = 0; id < buffers; ++id) kernel->give_back(static_cast<std::uint16_t>(id));
  kernel->publish_returns();
  return std::unique_ptr<TickSetRing>(new TickSetRing(std::move(kernel)));
}

TickSetRing::TickSetRing(std::unique_ptr<Kernel> kernel) : kernel_(std::move(kernel)) {}

TickSetRing::~TickSetRing() = default;

bool TickSetRing::submit_receive(int fd, Key key, std::uint16_t generation) {
  io_uring_sqe* sqe = kernel_->entry();
  if (sqe == nullptr) return false;
  io_uring_prep_recvmsg_multishot(sqe, fd, &kernel_->shape, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = kBufferGroup;
  io_uring_sqe_set_data64(sqe, receive_tag(key, generation));
  return true;
}

bool TickSetRing::arm(int fd, Key key) {
  const std::uint16_t generation = ++next_generation_;
  if (!submit_receive(fd, key, generation)) return false;
  // Submitted now: the receive takes what already waits and then waits itself, so what arrives
  // later is taken only inside poll(), and a disarm before then leaves it in the socket.
  io_uring_submit(&kernel_->ring);
  arms_[key] = Arm{fd, generation};
  return true;
}

void TickSetRing::disarm(Key key) {
  const auto arm = arms_.find(key);
  if (arm == arms_.end()) return;
  const std::uint64_t tag = receive_tag(key, arm->second.generation);
  arms_.erase(arm);
  io_uring_sqe* sqe = kernel_->entry();
  if (sqe == nullptr) return;  // cannot happen after a submit; the receive's datagrams go nowhere
  io_uring_prep_cancel64(sqe, tag, 0);
  io_uring_sqe_set_data64(sqe, kCancelTag);
  // Submitted and run now, deferred work included: the receive lets go of the socket (and its
  // reference to the open file) before the caller closes it or hands it to another key.
  io_uring_submit_and_get_events(&kernel_->ring);
}

std::size_t TickSetRing::poll(const Deliver& deliver) {
  std::size_t delivered = 0;
  std::vector<Key> ended;
  for (std::size_t pass = 0; pass < kPassesPerPoll; ++pass) {
    io_uring_submit_and_get_events(&kernel_->ring);
    ++stats_.enter_calls;
    delivered += reap(deliver, ended);
    if (ended.empty()) return delivered;
    for (const Key key : ended) {
      const auto arm = arms_.find(key);
      if (arm == arms_.end()) continue;  // disarmed while its datagrams were handed out
      arm->second.generation = ++next_generation_;
      if (submit_receive(arm->second.fd, key, arm->second.generation)) ++stats_.rearms;
    }
    ended.clear();
  }
  io_uring_submit(&kernel_->ring);  // the last pass's re-arms watch their sockets until the next poll
  return delivered;
}

std::size_t TickSetRing::reap(const Deliver& deliver, std::vector<Key>& ended) {
  std::size_t delivered = 0;
  io_uring_cqe* completion = nullptr;
  // Bounded by what the kernel posted before this pass: deliver() submits nothing that completes
  // here (an arm is submitted later; a disarm's cancel completion is skipped).
  for (std::size_t seen = 0; seen < 2 * std::max<std::size_t>(kernel_->count, kSubmissionEntries) + kSubmissionEntries;
       ++seen) {
    if (io_uring_peek_cqe(&kernel_->ring, &completion) != 0 || completion == nullptr) break;
    const std::uint64_t tag = completion->user_data;
    const int result = completion->res;
    const std::uint32_t flags = completion->flags;
    io_uring_cqe_seen(&kernel_->ring, completion);
    if (tag == kCancelTag) continue;
    const Key key = tag >> 16;
    if ((flags & IORING_CQE_F_BUFFER) != 0) {
      const auto id = static_cast<std::uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT);
      std::uint8_t* base = kernel_->buffer(id);
      auto* out = result > 0 ? io_uring_recvmsg_validate(base, result, &kernel_->shape) : nullptr;
      if (out != nullptr) {
        auto* payload = static_cast<std::uint8_t*>(io_uring_recvmsg_payload(out, &kernel_->shape));
        TakenDatagram datagram;
        datagram.buffer = {payload, static_cast<std::size_t>(base + kBufferSize - payload)};
        datagram.length = out->payloadlen;
        datagram.source = static_cast<const sockaddr*>(io_uring_recvmsg_name(out));
        datagram.source_length = std::min<socklen_t>(out->namelen, kernel_->shape.msg_namelen);
        datagram.truncated = (out->flags & MSG_TRUNC) != 0;
        ++stats_.datagrams;
        ++delivered;
        deliver(key, datagram);
      }
      kernel_->give_back(id);
    }
    if ((flags & IORING_CQE_F_MORE) != 0) continue;
    // The receive ended. Armed again unless it was cancelled, replaced, or failed for good.
    const auto arm = arms_.find(key);
    if (arm == arms_.end() || arm->second.generation != static_cast<std::uint16_t>(tag & 0xFFFF)) continue;
    if (result == -ENOBUFS) {
      ++stats_.shortfalls;
      ended.push_back(key);
    } else if (result >= 0 || result == -EINTR || result == -EAGAIN) {
      ended.push_back(key);  // ended without an error (a full completion queue): still wanted
    } else {
      ++stats_.failures;
      CHORUS_LOG(kWarn, "media", "tick socket receive failed; handed back to its poller", {"fd", arm->second.fd},
                 {"error", std::strerror(-result)});
      arms_.erase(arm);
      failed_.push_back(key);
    }
  }
  kernel_->publish_returns();
  return delivered;
}

}  // namespace chorus::media
