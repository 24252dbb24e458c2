#include "signaling/transport/udp_transport.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>

#include "common/log.hpp"

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
  socket_.send_to(asio::buffer(bytes.data(), bytes.size()), to, 0, ec);
  return ec;
}

void UdpTransport::receive() {
  socket_.async_receive_from(asio::buffer(buffer_), sender_,
                             [self = shared_from_this()](const boost::system::error_code& ec, std::size_t size) {
                               self->on_receive(ec, size);
                             });
}

void UdpTransport::on_receive(const boost::system::error_code& ec, std::size_t size) {
  if (events_ == nullptr || ec == asio::error::operation_aborted) return;
  if (ec) {
    // ICMP errors from earlier sends (connection_refused) surface here on some systems; they say
    // nothing about this socket, so keep receiving.
    CHORUS_LOG(kDebug, "transport", "udp receive error", {"error", ec.message()});
  } else {
    events_->on_datagram(std::string_view(buffer_.data(), size), sender_);
  }
  // The owner may have closed the transport while handling the datagram.
  if (events_ != nullptr && socket_.is_open()) receive();
}

}  // namespace chorus::sip
