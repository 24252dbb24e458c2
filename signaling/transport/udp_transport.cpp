#include "signaling/transport/udp_transport.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>

#include "common/log.hpp"
#include "common/wake_batch.hpp"

namespace chorus::sip {

namespace asio = boost::asio;
using asio::ip::udp;

UdpTransport::UdpTransport(asio::io_context& io, UdpEvents& events) : socket_(io), events_(&events) {}

std::expected<void, std::string> UdpTransport::open(const udp::endpoint& local, const SocketMarking& marking,
                                                    std::size_t receive_buffer) {
  const std::string where = "UDP " + local.address().to_string() + " port " + std::to_string(local.port());
  boost::system::error_code ec;
  socket_.open(local.protocol(), ec);
  if (!ec) socket_.bind(local, ec);
  if (!ec) socket_.non_blocking(true, ec);
  if (!ec) local_ = socket_.local_endpoint(ec);  // cached: the send and Via paths ask per message
  if (ec) {
    boost::system::error_code ignored;
    socket_.close(ignored);
    return std::unexpected(where + ": " + ec.message());
  }
  marking.apply(socket_.native_handle(), "sip");
  if (receive_buffer > 0) size_receive_buffer(receive_buffer);
  return {};
}

void UdpTransport::size_receive_buffer(std::size_t wanted) {
  const int asked = static_cast<int>(std::min<std::size_t>(wanted, INT32_MAX / 2));
  ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVBUF, &asked, sizeof asked);
  int granted = 0;
  socklen_t length = sizeof granted;
  if (::getsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVBUF, &granted, &length) != 0) return;
  // Linux doubles the request for its bookkeeping (socket(7)); less than asked: rmem_max capped it.
  if (static_cast<std::size_t>(granted) < wanted)
    CHORUS_LOG(kWarn, "transport", "SIP UDP receive buffer capped by the kernel (raise net.core.rmem_max)",
               {"wanted", static_cast<std::uint64_t>(wanted)}, {"granted", static_cast<std::uint64_t>(granted)});
}

void UdpTransport::start() {
  receive();
}

void UdpTransport::close() {
  events_ = nullptr;
  boost::system::error_code ignored;
  socket_.close(ignored);
}

std::uint16_t UdpTransport::port() const {
  return socket_.is_open() ? local_.port() : 0;
}

boost::system::error_code UdpTransport::send_to(std::string_view bytes, udp::endpoint to) {
  boost::system::error_code ec;
  if (!socket_.is_open()) return asio::error::bad_descriptor;
  // A dual-stack IPv6 socket reaches IPv4 peers through their mapped form.
  if (to.address().is_v4() && local_.address().is_v6()) {
    to = udp::endpoint(asio::ip::make_address_v6(asio::ip::v4_mapped, to.address().to_v4()), to.port());
  }
  if (queue_sends_) {
    if (queued_.size() == kSendsPerFlush) flush_sends();
    queued_bytes_.append(bytes);
    queued_.push_back({queued_bytes_.size(), to});
    return ec;
  }
  socket_.send_to(asio::buffer(bytes.data(), bytes.size()), to, 0, ec);
  ++send_stats_.system_calls;
  if (!ec) ++send_stats_.datagrams;
  return ec;
}

void UdpTransport::flush_sends() {
  const std::size_t count = queued_.size();
  if (count == 0) return;  // a batch of ACKs or keepalives sends nothing: no arrays to clear
  std::array<mmsghdr, kSendsPerFlush> messages{};
  std::array<iovec, kSendsPerFlush> vectors{};
  for (std::size_t i = 0, begin = 0; i < count; begin = queued_[i++].end) {
    vectors[i] = {queued_bytes_.data() + begin, queued_[i].end - begin};
    messages[i].msg_hdr.msg_iov = &vectors[i];
    messages[i].msg_hdr.msg_iovlen = 1;
    messages[i].msg_hdr.msg_name = queued_[i].to.data();
    messages[i].msg_hdr.msg_namelen = static_cast<socklen_t>(queued_[i].to.size());
  }
  // sendmmsg(2) stops at the first datagram the kernel refuses and returns how many went before
  // it; that one is reported and skipped, and the rest are sent on (each gets its own verdict).
  for (std::size_t sent = 0; sent < count && socket_.is_open();) {
    const int result =
        ::sendmmsg(socket_.native_handle(), messages.data() + sent, static_cast<unsigned>(count - sent), MSG_DONTWAIT);
    ++send_stats_.system_calls;
    if (result > 0) {
      sent += static_cast<std::size_t>(result);
      send_stats_.datagrams += static_cast<std::uint64_t>(result);
      continue;
    }
    if (result < 0 && errno == EINTR) continue;
    const boost::system::error_code ec(result < 0 ? errno : EIO, boost::system::system_category());
    if (events_ != nullptr) events_->on_send_failed(queued_[sent].to, ec);
    ++sent;
  }
  queued_bytes_.clear();
  queued_.clear();
}

void UdpTransport::receive() {
  socket_.async_wait(udp::socket::wait_read,
                     [self = shared_from_this()](const boost::system::error_code& ec) { self->on_readable(ec); });
}

void UdpTransport::on_readable(const boost::system::error_code& ec) {
  if (events_ == nullptr || ec == asio::error::operation_aborted) return;
  bool more = false;
  if (ec) {
    CHORUS_LOG(kDebug, "transport", "udp wait error", {"error", ec.message()});
  } else {
    const WakeBatch batch;  // every media-worker wake of this burst's calls, once, after it
    more = read_burst();
  }
  // The owner may have closed the transport while handling a datagram.
  if (events_ == nullptr || !socket_.is_open()) return;
  if (more) {
    // Datagrams are left after kReadsPerWake reads: come back for them once the loop's other ready
    // work has run, without a trip through the reactor. (Boost 1.74 re-arms a waited-on socket with
    // epoll_ctl, which would report them again; an edge-triggered reactor that did not never would.)
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->on_readable({}); });
  } else {
    receive();
  }
}

bool UdpTransport::read_burst() {
  if (buffers_.empty()) buffers_.resize(kDatagramsPerRead * kMaxDatagram);
  std::array<mmsghdr, kDatagramsPerRead> messages{};
  std::array<iovec, kDatagramsPerRead> vectors{};
  std::array<sockaddr_storage, kDatagramsPerRead> senders{};
  for (std::size_t read = 0; read < kReadsPerWake; ++read) {
    for (std::size_t i = 0; i < kDatagramsPerRead; ++i) {
      vectors[i] = {buffers_.data() + i * kMaxDatagram, kMaxDatagram};
      messages[i].msg_hdr = {};
      messages[i].msg_hdr.msg_iov = &vectors[i];
      messages[i].msg_hdr.msg_iovlen = 1;
      messages[i].msg_hdr.msg_name = &senders[i];
      messages[i].msg_hdr.msg_namelen = sizeof senders[i];
    }
    const int count = ::recvmmsg(socket_.native_handle(), messages.data(), kDatagramsPerRead, MSG_DONTWAIT, nullptr);
    if (count <= 0) {
      // EAGAIN: all read. Anything else (an ICMP error of an earlier send on some systems) says
      // nothing about this socket: wait for the next readiness.
      if (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
        CHORUS_LOG(kDebug, "transport", "udp receive error", {"errno", errno});
      return false;
    }
    if (!deliver(messages, senders, static_cast<std::size_t>(count))) return false;
    if (static_cast<std::size_t>(count) < kDatagramsPerRead) return false;  // the queue is empty
  }
  return true;
}

bool UdpTransport::deliver(std::span<const mmsghdr> messages, std::span<const sockaddr_storage> senders,
                           std::size_t count) {
  // Until the batch is handled, even if a handler throws: then what it queued is sent (on a closed
  // socket, dropped) and later sends leave at once again.
  struct QueuedWhileDelivering {
    explicit QueuedWhileDelivering(UdpTransport& transport) : transport(transport) { transport.queue_sends_ = true; }
    QueuedWhileDelivering(const QueuedWhileDelivering&) = delete;
    QueuedWhileDelivering& operator=(const QueuedWhileDelivering&) = delete;
    ~QueuedWhileDelivering() {
      transport.queue_sends_ = false;
      transport.flush_sends();
    }
    UdpTransport& transport;
  };
  {
    const QueuedWhileDelivering queued(*this);
    for (std::size_t i = 0; i < count; ++i) {
      if (events_ == nullptr || !socket_.is_open()) break;  // closed by an earlier datagram's owner
      udp::endpoint from;
      const auto length = std::min<std::size_t>(messages[i].msg_hdr.msg_namelen, from.capacity());
      std::memcpy(from.data(), &senders[i], length);
      from.resize(length);
      events_->on_datagram(std::string_view(buffers_.data() + i * kMaxDatagram, messages[i].msg_len), from);
    }
  }
  return events_ != nullptr && socket_.is_open();
}

}  // namespace chorus::sip
