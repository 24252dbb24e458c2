#include "signaling/transport/stream_acceptor.hpp"

#include <boost/asio/error.hpp>
#include <chrono>

#include "common/log.hpp"

namespace chorus::sip {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {
// Out of descriptors or buffers: accepting again at once would spin; wait for connections to close.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);
}  // namespace

StreamAcceptor::StreamAcceptor(asio::io_context& io, TransportKind kind, AcceptorEvents& events)
    : kind_(kind), acceptor_(io), retry_timer_(io), events_(&events) {}

std::expected<void, std::string> StreamAcceptor::open(const tcp::endpoint& local, const SocketMarking& marking) {
  const std::string where =
      std::string(transport_name(kind_)) + " " + local.address().to_string() + " port " + std::to_string(local.port());
  boost::system::error_code ec;
  acceptor_.open(local.protocol(), ec);
  // Lets a restarted server bind while old connections sit in TIME_WAIT; a live listener still
  // makes bind() fail on Linux.
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(local, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) local_port_ = acceptor_.local_endpoint(ec).port();  // cached: asked per message
  if (ec) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    return std::unexpected(where + ": " + ec.message());
  }
  marking_ = marking;
  marking_.apply(acceptor_.native_handle(), "sip");
  return {};
}

void StreamAcceptor::start() {
  accept();
}

void StreamAcceptor::close() {
  events_ = nullptr;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  retry_timer_.cancel();
}

std::uint16_t StreamAcceptor::port() const {
  return acceptor_.is_open() ? local_port_ : 0;
}

void StreamAcceptor::accept() {
  acceptor_.async_accept([self = shared_from_this()](const boost::system::error_code& ec, tcp::socket socket) {
    self->on_accept(ec, std::move(socket));
  });
}

void StreamAcceptor::on_accept(const boost::system::error_code& ec, tcp::socket socket) {
  if (events_ == nullptr || ec == asio::error::operation_aborted) return;
  if (!ec) {
    // Linux copies the listener's mark into the accepted socket; set it anyway, where another
    // stack would not.
    marking_.apply(socket.native_handle(), "sip");
    events_->on_accepted(kind_, std::move(socket));
    if (events_ != nullptr) accept();
    return;
  }
  if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space || ec == asio::error::no_memory) {
    CHORUS_LOG(kWarn, "transport", "accept failed, retrying", {"transport", transport_name(kind_)},
               {"error", ec.message()});
    retry_timer_.expires_after(kAcceptRetryDelay);
    retry_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& wait_ec) {
      if (!wait_ec && self->events_ != nullptr) self->accept();
    });
    return;
  }
  // A connection reset before it was accepted, and the like: the listener itself is fine.
  CHORUS_LOG(kDebug, "transport", "accept error", {"transport", transport_name(kind_)}, {"error", ec.message()});
  accept();
}

}  // namespace chorus::sip
