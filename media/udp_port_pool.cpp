#include "media/udp_port_pool.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

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

}  // namespace

PortLease::~PortLease() {
  ::close(rtp_fd_);
  ::close(rtcp_fd_);
  pool_->give_back(rtp_port_);
}

UdpPortPool::UdpPortPool(std::string bind_address, std::uint16_t first, std::uint16_t last, std::size_t receive_buffer,
                         SocketMarking marking)
    : bind_address_(std::move(bind_address)), receive_buffer_(receive_buffer), marking_(marking) {
  const unsigned start = first + (first % 2);
  for (unsigned port = start; port + 1 <= last; port += 2) free_.push_back(static_cast<std::uint16_t>(port));
  capacity_ = free_.size();
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
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_INET;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (::inet_pton(AF_INET, bind_address_.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    length = sizeof(sockaddr_in);
  } else if (::inet_pton(AF_INET6, bind_address_.c_str(), &v6->sin6_addr) == 1) {
    family = AF_INET6;
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    length = sizeof(sockaddr_in6);
  } else {
    return -1;
  }
  int fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    ::close(fd);
    return -1;
  }
  size_receive_buffer(fd);
  marking_.apply(fd, "media");
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

std::unique_ptr<PortLease> UdpPortPool::allocate() {
  // Each pair free now is tried about once per call; pairs held by other processes rest.
  for (std::size_t tries = free_.size() + resting_.size(); tries > 0; --tries) {
    const auto port = draw();
    if (!port) break;
    const int rtp = bind_udp(*port);
    const int rtcp = rtp >= 0 ? bind_udp(static_cast<std::uint16_t>(*port + 1)) : -1;
    if (rtp >= 0 && rtcp >= 0) {
      ++leased_;
      return std::unique_ptr<PortLease>(new PortLease(*this, *port, rtp, rtcp));
    }
    if (rtp >= 0) ::close(rtp);
    resting_.push_back(*port);
  }
  return nullptr;
}

void UdpPortPool::give_back(std::uint16_t rtp_port) {
  --leased_;
  resting_.push_back(rtp_port);
  // A pair rests while half the pool is released after it; then it may be drawn again.
  while (resting_.size() > capacity_ / 2) {
    free_.push_back(resting_.front());
    resting_.pop_front();
  }
}

}  // namespace chorus::media
