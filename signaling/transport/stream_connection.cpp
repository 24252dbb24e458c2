#include "signaling/transport/stream_connection.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <utility>

#include "common/log.hpp"
#include "signaling/transport/via_routing.hpp"

namespace chorus::sip {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr std::string_view kPong = "\r\n";  // RFC 5626 §4.4.1: the answer to a CRLFCRLF ping

// Errors that mean the peer went away; not worth more than a debug line.
bool is_orderly_end(const boost::system::error_code& ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::ssl::error::stream_truncated ||
         ec == asio::error::broken_pipe;
}

}  // namespace

StreamConnection::StreamConnection(ConnectionId id, TransportKind kind, tcp::socket socket,
                                   std::shared_ptr<asio::ssl::context> tls, ConnectionEvents& events,
                                   StreamOptions options)
    : socket_(std::move(socket)),
      tls_context_(std::move(tls)),
      timer_(socket_.get_executor()),
      events_(&events),
      options_(options),
      last_activity_(SteadyClock::now()),
      framer_(options.limits) {
  peer_.kind = kind;
  peer_.connection = id;
  boost::system::error_code ec;
  if (const auto remote = socket_.remote_endpoint(ec); !ec) {
    inbound_ = true;
    peer_.address = normalize_address(remote.address());
    peer_.port = remote.port();
  }
  if (tls_context_) tls_stream_.emplace(std::move(socket_), *tls_context_);
}

tcp::socket& StreamConnection::lowest_layer() {
  return tls_stream_ ? tls_stream_->next_layer() : socket_;
}

void StreamConnection::start_accepted() {
  inbound_ = true;
  if (tls_stream_) {
    handshake(/*server=*/true);
  } else {
    on_ready();
  }
}

void StreamConnection::start_connect(const tcp::endpoint& remote) {
  inbound_ = false;
  peer_.address = normalize_address(remote.address());
  peer_.port = remote.port();
  state_ = State::kConnecting;
  handshake_deadline_ = SteadyClock::now() + options_.handshake_timeout;
  arm_timer(options_.handshake_timeout);
  // The DSCP goes on before connect() so that the SYN already carries it; async_connect keeps a
  // socket that is open (and maybe bound) as it is.
  boost::system::error_code ec;
  if (!lowest_layer().is_open()) lowest_layer().open(remote.protocol(), ec);
  if (!ec) options_.marking.apply(lowest_layer().native_handle(), "sip");
  lowest_layer().async_connect(
      remote, [self = shared_from_this()](const boost::system::error_code& ec) { self->on_connect(ec); });
}

void StreamConnection::on_connect(const boost::system::error_code& ec) {
  if (state_ == State::kClosed) return;
  if (ec) {
    close(DropReason::kConnectFailed, "connect to " + peer_.to_string() + ": " + ec.message());
    return;
  }
  if (tls_stream_) {
    // Outbound TLS does not verify the server: SIP peers here are phones and trunks reached by IP,
    // whose certificates rarely name that IP (the layer logs this once at start).
    handshake(/*server=*/false);
  } else {
    on_ready();
  }
}

void StreamConnection::handshake(bool server) {
  state_ = State::kHandshaking;
  if (server) {
    handshake_deadline_ = SteadyClock::now() + options_.handshake_timeout;
    arm_timer(options_.handshake_timeout);
  }
  tls_stream_->async_handshake(
      server ? asio::ssl::stream_base::server : asio::ssl::stream_base::client,
      [self = shared_from_this()](const boost::system::error_code& ec) { self->on_handshake(ec); });
}

void StreamConnection::on_handshake(const boost::system::error_code& ec) {
  if (state_ == State::kClosed) return;
  if (ec) {
    close(DropReason::kTlsHandshake, ec.message());
    return;
  }
  on_ready();
}

void StreamConnection::on_ready() {
  state_ = State::kOpen;
  touch();
  arm_timer(options_.idle_timeout);
  if (!write_queue_.empty()) write();
  read();
}

void StreamConnection::arm_timer(Millis after) {
  timer_.expires_after(after);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) { self->on_timer(ec); });
}

void StreamConnection::on_timer(const boost::system::error_code& ec) {
  // A re-armed timer completes its old wait with operation_aborted; a wait that had already
  // expired when re-armed completes without error, so every decision re-checks the clock.
  if (ec == asio::error::operation_aborted || state_ == State::kClosed) return;
  const TimePoint now = SteadyClock::now();
  if (state_ == State::kDraining) {
    if (now < handshake_deadline_) {
      arm_timer(std::chrono::ceil<Millis>(handshake_deadline_ - now));
    } else if (close_when_flushed_) {
      auto [reason, detail] = std::move(*close_when_flushed_);
      close(reason, detail + "; peer did not read the last response");
    }
    return;
  }
  if (state_ != State::kOpen) {
    if (now < handshake_deadline_) {
      arm_timer(std::chrono::ceil<Millis>(handshake_deadline_ - now));
      return;
    }
    const bool connecting = state_ == State::kConnecting;
    close(connecting ? DropReason::kConnectFailed : DropReason::kTlsHandshake,
          connecting ? "connect timed out" : "TLS handshake timed out");
    return;
  }
  const auto idle_for = now - last_activity_;
  if (idle_for >= options_.idle_timeout) {
    close(DropReason::kIdle, "idle for " + std::to_string(options_.idle_timeout.count()) + " ms");
    return;
  }
  arm_timer(std::chrono::ceil<Millis>(options_.idle_timeout - idle_for));
}

void StreamConnection::read() {
  auto handler = [self = shared_from_this()](const boost::system::error_code& ec, std::size_t size) {
    self->on_read(ec, size);
  };
  if (tls_stream_) {
    tls_stream_->async_read_some(asio::buffer(read_buffer_), std::move(handler));
  } else {
    socket_.async_read_some(asio::buffer(read_buffer_), std::move(handler));
  }
}

void StreamConnection::on_read(const boost::system::error_code& ec, std::size_t size) {
  if (state_ != State::kOpen) return;
  if (ec) {
    if (!is_orderly_end(ec)) {
      CHORUS_LOG(kDebug, "transport", "read error", {"peer", peer_.to_string()}, {"error", ec.message()});
    }
    close(std::nullopt, ec.message());
    return;
  }
  touch();
  if (!framer_.feed(std::string_view(read_buffer_.data(), size))) {
    // §18.3 bounds a message by its Content-Length; past our limit nothing more can be framed.
    close(DropReason::kFraming, "message exceeds " + std::to_string(options_.limits.max_message_bytes) + " bytes");
    return;
  }
  drain_framer();
  if (state_ == State::kOpen) read();
}

void StreamConnection::drain_framer() {
  while (state_ == State::kOpen) {
    StreamFramer::Item item = framer_.next();
    answer_pings(framer_.take_pings());
    if (state_ != State::kOpen) return;
    switch (item.status) {
      case StreamFramer::Status::kNeedMore:
        return;
      case StreamFramer::Status::kMessage:
        if (item.message && events_ != nullptr) events_->on_stream_message(std::move(*item.message), peer_);
        break;
      case StreamFramer::Status::kError:
        // Answerable (400, or 513 just before the framer gives up): the owner may queue a response.
        if (item.error && events_ != nullptr) events_->on_stream_bad_message(*item.error, peer_);
        break;
      case StreamFramer::Status::kFatal:
        // Framing is lost: whatever follows cannot be trusted to start a message.
        close_after_writes(DropReason::kFraming, item.error ? item.error->reason : std::string("framing lost"));
        return;
    }
  }
}

void StreamConnection::answer_pings(std::size_t pings) {
  // RFC 5626 §4.4.1: each CRLFCRLF ping gets a CRLF pong.
  for (; pings > 0 && state_ == State::kOpen; --pings) {
    if (events_ != nullptr) events_->on_stream_keepalive(peer_);
    send(std::string(kPong));
  }
}

void StreamConnection::close_after_writes(DropReason reason, std::string detail) {
  if (write_queue_.empty()) {
    close(reason, detail);
    return;
  }
  state_ = State::kDraining;
  close_when_flushed_.emplace(reason, std::move(detail));
  // The flush gets the handshake deadline; a peer that does not read is not waited for longer.
  handshake_deadline_ = SteadyClock::now() + options_.handshake_timeout;
  arm_timer(options_.handshake_timeout);
}

bool StreamConnection::send(std::string bytes) {
  if (state_ == State::kClosed || state_ == State::kDraining) return false;
  if (bytes.size() > options_.max_write_queue_bytes) {
    CHORUS_LOG(kWarn, "transport", "message larger than the write queue", {"peer", peer_.to_string()},
               {"bytes", bytes.size()});
    return false;
  }
  if (queued_bytes_ + bytes.size() > options_.max_write_queue_bytes) {
    close(DropReason::kWriteQueue, std::to_string(queued_bytes_) + " bytes queued");
    return false;
  }
  queued_bytes_ += bytes.size();
  write_queue_.push_back(std::move(bytes));
  if (state_ == State::kOpen && !writing_) write();
  return true;
}

void StreamConnection::write() {
  writing_ = true;
  auto handler = [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) { self->on_write(ec); };
  const std::string& front = write_queue_.front();
  if (tls_stream_) {
    asio::async_write(*tls_stream_, asio::buffer(front), std::move(handler));
  } else {
    asio::async_write(socket_, asio::buffer(front), std::move(handler));
  }
}

void StreamConnection::on_write(const boost::system::error_code& ec) {
  writing_ = false;
  if (state_ == State::kClosed) return;
  if (ec) {
    close(DropReason::kSendFailed, "write: " + ec.message());
    return;
  }
  queued_bytes_ -= write_queue_.front().size();
  write_queue_.pop_front();
  touch();
  if (!write_queue_.empty()) {
    write();
  } else if (state_ == State::kDraining && close_when_flushed_) {
    auto [reason, detail] = std::move(*close_when_flushed_);
    close(reason, detail);
  }
}

void StreamConnection::close(std::optional<DropReason> reason, std::string_view detail) {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  timer_.cancel();
  boost::system::error_code ignored;
  lowest_layer().shutdown(tcp::socket::shutdown_both, ignored);
  lowest_layer().close(ignored);
  write_queue_.clear();
  queued_bytes_ = 0;
  if (ConnectionEvents* events = std::exchange(events_, nullptr)) events->on_stream_closed(id(), reason, detail);
}

}  // namespace chorus::sip
