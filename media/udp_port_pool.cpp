#include "media/udp_port_pool.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <utility>

#include "common/log.hpp"
#include "common/random.hpp"

namespace chorus::media {
namespace {

// A uniform index below `bound` (> 0) from the kernel's CSPRNG, rejection-sampled so that no index
// is likelier than another; the process generator only if getrandom fails (it does not block
// after boot).
std::size_t random_index(std::size_t bound) {
  const std::uint64_t limit = UINT64_MAX - (UINT64_MAX % bound);
  for (;;) {
    std::uint64_t draw = 0;
    if (::getrandom(&draw, sizeof draw, 0) != static_cast<ssize_t>(sizeof draw)) draw = random_u64();
    if (draw < limit) return static_cast<std::size_t>(draw % bound);
  }
}

// Where a parked socket is connected: its own port on its bind address, or on loopback when bound to
// the wildcard (connecting fills in the local address; disconnecting empties it again, since the
// explicit bind locked only the port).
std::optional<TransportAddress> parking_address_for(std::optional<TransportAddress> bound) {
  if (bound && std::ranges::all_of(bound->ip, [](std::uint8_t octet) { return octet == 0; }))
    bound = bound->family == stun::AddressFamily::kIpv4 ? *parse_transport_address("127.0.0.1", 0)
                                                        : *parse_transport_address("::1", 0);
  return bound;
}

// At most this many datagrams are read away when a pair is parked (64 reads of 64): more than the
// largest receive buffer holds. A socket still not empty after that is being flooded: it is closed.
constexpr unsigned kDrainReads = 64;
constexpr unsigned kDrainBatch = 64;

// Reads and discards what is queued (zero-length buffers: the kernel drops each datagram whole).
bool drain(int fd) {
  std::array<mmsghdr, kDrainBatch> messages{};
  for (unsigned read = 0; read < kDrainReads; ++read) {
    const int got = ::recvmmsg(fd, messages.data(), kDrainBatch, MSG_DONTWAIT, nullptr);
    if (got < static_cast<int>(kDrainBatch)) return got >= 0 || errno == EAGAIN || errno == EWOULDBLOCK;
  }
  return false;
}

int socket_family_of(const std::optional<TransportAddress>& bound) {
  if (!bound) return 0;
  return bound->family == stun::AddressFamily::kIpv4 ? AF_INET : AF_INET6;
}

bool park_socket(int fd, std::optional<TransportAddress> parking, std::uint16_t port) {
  if (!parking) return false;
  parking->port = port;
  const SockaddrBuffer address = to_sockaddr(*parking);
  if (::connect(fd, address.get(), address.length) != 0) return false;
  return drain(fd);  // after connecting: nothing new can arrive while this reads
}

bool unpark_socket(int fd) {
  sockaddr_storage unspecified{};
  unspecified.ss_family = AF_UNSPEC;
  return ::connect(fd, reinterpret_cast<const sockaddr*>(&unspecified), sizeof unspecified) == 0;
}

void close_pair(int rtp_fd, int rtcp_fd) {
  if (rtp_fd >= 0) ::close(rtp_fd);
  if (rtcp_fd >= 0) ::close(rtcp_fd);
}

}  // namespace

// Released pairs on their way back: a lease may end on a media worker's thread (its session held
// the sockets last), the pool is the control loop's. The pool empties `returned` on its next draw;
// when the pool is gone, leases just close their sockets.
struct ReturnShelf {
  struct Returned {
    std::uint16_t rtp_port;
    int rtp_fd;  // -1: the pair was closed (cold)
    int rtcp_fd;
  };
  std::mutex mutex;
  std::vector<Returned> returned;
  std::size_t warm = 0;  // released pairs with open sockets, here or in the pool
  std::size_t leased = 0;
  bool pool_alive = true;
  std::size_t warm_limit = 0;
  std::optional<TransportAddress> parking;
};

PortLease::~PortLease() {
  bool reserved = false;  // a place among the warm pairs, taken before parking so two threads cannot both take the last
  {
    std::scoped_lock lock(shelf_->mutex);
    --shelf_->leased;
    reserved = shelf_->pool_alive && shelf_->warm < shelf_->warm_limit;
    if (reserved) ++shelf_->warm;
  }
  // Parking is two system calls per socket, outside the lock.
  const bool parked = reserved && park_socket(rtp_fd_, shelf_->parking, rtp_port_) &&
                      park_socket(rtcp_fd_, shelf_->parking, rtcp_port());
  if (!parked) close_pair(rtp_fd_, rtcp_fd_);
  std::scoped_lock lock(shelf_->mutex);
  if (!shelf_->pool_alive) {  // the pool ended while we parked: nobody will draw this pair again
    if (parked) close_pair(rtp_fd_, rtcp_fd_);
    return;
  }
  if (reserved && !parked) --shelf_->warm;
  shelf_->returned.push_back({rtp_port_, parked ? rtp_fd_ : -1, parked ? rtcp_fd_ : -1});
}

UdpPortPool::UdpPortPool(std::string bind_address, std::uint16_t first, std::uint16_t last, std::size_t receive_buffer,
                         SocketMarking marking, std::size_t warm_limit)
    : bind_address_(parse_transport_address(bind_address, 0)),
      first_port_(static_cast<std::uint16_t>(first + (first % 2))),
      receive_buffer_(receive_buffer),
      socket_family_(socket_family_of(bind_address_)),
      marking_(marking),
      shelf_(std::make_shared<ReturnShelf>()) {
  for (unsigned port = first_port_; port + 1 <= last; port += 2) free_.push_back(static_cast<std::uint16_t>(port));
  capacity_ = free_.size();
  warm_.resize(capacity_);
  shelf_->warm_limit = warm_limit;
  shelf_->parking = parking_address_for(bind_address_);
}

UdpPortPool::~UdpPortPool() {
  std::scoped_lock lock(shelf_->mutex);
  shelf_->pool_alive = false;
  for (const auto& returned : shelf_->returned) close_pair(returned.rtp_fd, returned.rtcp_fd);
  shelf_->returned.clear();
  for (const auto& sockets : warm_) close_pair(sockets.rtp, sockets.rtcp);
}

std::size_t UdpPortPool::leased_pairs() const {
  std::scoped_lock lock(shelf_->mutex);
  return shelf_->leased;
}

std::size_t UdpPortPool::warm_pairs() const {
  std::scoped_lock lock(shelf_->mutex);
  return shelf_->warm;
}

void UdpPortPool::size_receive_buffer(int fd) {
  if (receive_buffer_ == 0) return;
  const int wanted = static_cast<int>(std::min<std::size_t>(receive_buffer_, INT32_MAX / 2));
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &wanted, sizeof wanted);
  int granted = 0;
  socklen_t length = sizeof granted;
  if (::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &granted, &length) != 0) return;
  granted_receive_buffer_ = static_cast<std::size_t>(granted);
  // Linux doubles the request for its bookkeeping (socket(7)); less than asked means rmem_max capped it.
  if (granted_receive_buffer_ < receive_buffer_ && !capped_logged_) {
    capped_logged_ = true;
    CHORUS_LOG(kWarn, "media", "media receive buffer capped by the kernel (raise net.core.rmem_max)",
               {"wanted", static_cast<std::uint64_t>(receive_buffer_)},
               {"granted", static_cast<std::uint64_t>(granted_receive_buffer_)});
  }
}

int UdpPortPool::bind_udp(std::uint16_t port) {
  if (!bind_address_) return -1;
  TransportAddress local = *bind_address_;
  local.port = port;
  const SockaddrBuffer address = to_sockaddr(local);
  int fd = ::socket(socket_family_, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::bind(fd, address.get(), address.length) != 0) {
    ::close(fd);
    return -1;
  }
  size_receive_buffer(fd);
  if (!marking_.apply(fd, "media", socket_family_)) mark_refused_ = true;
  return fd;
}

std::optional<std::uint16_t> UdpPortPool::draw() {
  if (free_.empty()) {
    // Nothing else is free: the resting pairs are better than refusing the call.
    free_.assign(resting_.begin(), resting_.end());
    resting_.clear();
  }
  if (free_.empty()) return std::nullopt;
  const std::size_t index = random_index(free_.size());
  const std::uint16_t port = free_[index];
  free_[index] = free_.back();
  free_.pop_back();
  return port;
}

std::optional<UdpPortPool::Sockets> UdpPortPool::take_warm(std::uint16_t rtp_port) {
  auto& sockets = warm_[(rtp_port - first_port_) / 2];
  if (sockets.rtp < 0) return std::nullopt;
  return std::exchange(sockets, Sockets{});
}

std::unique_ptr<PortLease> UdpPortPool::allocate() {
  take_back_released();
  // Each pair free now is tried about once per call; pairs held by other processes rest.
  for (std::size_t tries = free_.size() + resting_.size(); tries > 0; --tries) {
    const auto port = draw();
    if (!port) break;
    auto sockets = take_warm(*port);
    const bool was_warm = sockets.has_value();
    if (sockets && !(unpark_socket(sockets->rtp) && unpark_socket(sockets->rtcp))) {
      close_pair(sockets->rtp, sockets->rtcp);  // cannot happen on Linux; a fresh bind is the way out if it does
      sockets.reset();
    }
    if (!sockets) {
      sockets.emplace();
      sockets->rtp = bind_udp(*port);
      sockets->rtcp = sockets->rtp >= 0 ? bind_udp(static_cast<std::uint16_t>(*port + 1)) : -1;
    }
    const bool bound = sockets->rtp >= 0 && sockets->rtcp >= 0;
    if (was_warm || bound) {
      std::scoped_lock lock(shelf_->mutex);
      if (was_warm) --shelf_->warm;
      if (bound) ++shelf_->leased;
    }
    if (bound) {
      const auto dscp = mark_refused_ ? std::nullopt : marking_.dscp;
      return std::unique_ptr<PortLease>(
          new PortLease(shelf_, *port, sockets->rtp, sockets->rtcp, socket_family_, dscp));
    }
    close_pair(sockets->rtp, -1);
    resting_.push_back(*port);
  }
  return nullptr;
}

void UdpPortPool::take_back_released() {
  std::vector<ReturnShelf::Returned> returned;
  {
    std::scoped_lock lock(shelf_->mutex);
    if (shelf_->returned.empty()) return;
    returned.swap(shelf_->returned);
  }
  for (const auto& pair : returned) {
    if (pair.rtp_fd >= 0) warm_[(pair.rtp_port - first_port_) / 2] = Sockets{pair.rtp_fd, pair.rtcp_fd};
    rest(pair.rtp_port);
  }
}

void UdpPortPool::rest(std::uint16_t rtp_port) {
  resting_.push_back(rtp_port);
  // A pair rests while half the pool is released after it; then it may be drawn again.
  while (resting_.size() > capacity_ / 2) {
    free_.push_back(resting_.front());
    resting_.pop_front();
  }
}

}  // namespace chorus::media
