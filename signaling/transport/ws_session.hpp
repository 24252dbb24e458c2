// WsSession<NextLayer>: one inbound SIP-over-WebSocket connection (RFC 7118) on a Boost.Beast
// websocket stream over `NextLayer` — tcp::socket (WS), ssl::stream<tcp::socket> (WSS), or Beast's
// test stream in the fuzz target. Instantiated for the first two in ws_connection.cpp.
//
//   [WSS: TLS handshake] ─▶ HTTP upgrade request ─┬─ check_ws_upgrade ok ─▶ 101 "sip" ─▶ open
//                                                 └─ refused ─▶ 400/403/426, close
//   open: one WebSocket message = one SIP message (RFC 7118 §5) ─▶ parse_datagram ─▶ owner
//
// Upgrade: the request is read with a header limit (max_upgrade_bytes) and no body; bytes that do
// not parse as HTTP close the connection without an answer. check_ws_upgrade (ws_protocol.hpp)
// decides; a refusal is answered once and the connection closed, never upgraded. TLS handshake,
// request and 101 must all be done by handshake_timeout after the accept. Bytes a client sends
// after its request but before our answer (RFC 6455 §4.1 forbids it) are discarded.
// Messages: text or binary (RFC 7118 §5.1), parsed like a datagram with the layer's ParseLimits
// (Content-Length may be absent). A message or frame over max_message_bytes makes Beast send close
// code 1009 (RFC 6455 §7.4.1) and end the read; invalid frames and invalid UTF-8 text likewise end
// with 1002/1007. A double-CRLF message is a keepalive ping (RFC 5626 §3.5.1, sent by SIP.js) and
// is answered "\r\n". Compression (RFC 7692) is not offered: no zip bombs.
// Sending: whole SIP messages queue in order, one WebSocket message each, written one at a time;
// a text frame when valid UTF-8, else binary. More than max_write_queue_bytes queued closes the
// connection as a slow reader.
// Idle: any message or control frame from the peer counts as activity — a WebSocket ping is how a
// browser-side stack or a proxy keeps the connection (and its NAT binding) alive, just as any bytes
// do on TCP — and so does a completed write. Idle for idle_timeout: closed.
//
// Threading: control loop only; no locks. Lifetime (Boost.Beast style): a shared_ptr kept alive by
// its pending read, write or timer. close() detaches the owner and closes the socket; completions
// that arrive after it see kClosed and do nothing.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "common/log.hpp"
#include "common/timer_queue.hpp"
#include "signaling/transport/transport_connection.hpp"
#include "signaling/transport/ws_connection.hpp"
#include "signaling/transport/ws_protocol.hpp"

namespace chorus::sip {

namespace ws_detail {

template <typename T>
struct IsTls : std::false_type {};
template <typename T>
struct IsTls<boost::asio::ssl::stream<T>> : std::true_type {};

// The peer went away or closed properly: not worth more than a debug line, and not a drop.
inline bool is_orderly_end(const boost::system::error_code& ec) {
  namespace asio = boost::asio;
  return ec == boost::beast::websocket::error::closed || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::ssl::error::stream_truncated || ec == boost::beast::http::error::end_of_stream;
}

inline std::optional<DropReason> read_drop_reason(const boost::system::error_code& ec) {
  if (ec == boost::beast::websocket::error::message_too_big) return DropReason::kWsMessageTooBig;
  if (ec == boost::beast::websocket::condition::protocol_violation) return DropReason::kWsProtocolError;
  return std::nullopt;
}

}  // namespace ws_detail

template <typename NextLayer>
class WsSession final : public TransportConnection, public std::enable_shared_from_this<WsSession<NextLayer>> {
 public:
  // `tls` keeps the context that `next_layer_args` may refer to alive as long as the session.
  template <typename... Args>
  WsSession(const PeerAddress& peer, ConnectionEvents& events, WsOptions options,
            std::shared_ptr<boost::asio::ssl::context> tls, Args&&... next_layer_args)
      : tls_context_(std::move(tls)),
        ws_(std::forward<Args>(next_layer_args)...),
        timer_(ws_.get_executor()),
        events_(&events),
        options_(std::move(options)),
        http_buffer_(options_.max_upgrade_bytes) {
    peer_ = peer;
    inbound_ = true;
  }

  void start_accepted() override {
    const TimePoint now = SteadyClock::now();
    last_activity_ = now;
    handshake_deadline_ = now + options_.stream.handshake_timeout;
    arm_timer(options_.stream.handshake_timeout);
    if constexpr (kTls) {
      state_ = State::kTlsHandshake;
      ws_.next_layer().async_handshake(
          boost::asio::ssl::stream_base::server,
          [self = this->shared_from_this()](const boost::system::error_code& ec) { self->on_tls_handshake(ec); });
    } else {
      read_upgrade();
    }
  }

  bool send(std::string bytes) override {
    if (state_ != State::kOpen) return false;
    if (bytes.size() > options_.stream.max_write_queue_bytes) {
      CHORUS_LOG(kWarn, "transport", "message larger than the write queue", {"peer", peer_.to_string()},
                 {"bytes", bytes.size()});
      return false;
    }
    if (queued_bytes_ + bytes.size() > options_.stream.max_write_queue_bytes) {
      close(DropReason::kWriteQueue, std::to_string(queued_bytes_) + " bytes queued");
      return false;
    }
    queued_bytes_ += bytes.size();
    write_queue_.push_back(std::move(bytes));
    if (!writing_) write();
    return true;
  }

  void close(std::optional<DropReason> reason, std::string_view detail) override {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    timer_.cancel();
    auto& lowest = boost::beast::get_lowest_layer(ws_);
    boost::system::error_code ignored;
    if constexpr (requires { lowest.shutdown(boost::asio::socket_base::shutdown_both, ignored); }) {
      lowest.shutdown(boost::asio::socket_base::shutdown_both, ignored);
    }
    if constexpr (requires { lowest.close(ignored); }) {
      lowest.close(ignored);
    } else {
      lowest.close();
    }
    write_queue_.clear();
    queued_bytes_ = 0;
    if (ConnectionEvents* events = std::exchange(events_, nullptr)) events->on_stream_closed(id(), reason, detail);
  }

  [[nodiscard]] bool is_closed() const override { return state_ == State::kClosed; }

 private:
  static constexpr bool kTls = ws_detail::IsTls<NextLayer>::value;

  // kRefusing: an HTTP error answer is being written; the connection closes after it.
  enum class State { kTlsHandshake, kUpgradeRequest, kRefusing, kAccepting, kOpen, kClosed };

  void arm_timer(Millis after) {
    timer_.expires_after(after);
    timer_.async_wait([self = this->shared_from_this()](const boost::system::error_code& ec) { self->on_timer(ec); });
  }

  void on_timer(const boost::system::error_code& ec) {
    // As in StreamConnection: a re-armed wait may complete without error, so re-check the clock.
    if (ec == boost::asio::error::operation_aborted || state_ == State::kClosed) return;
    const TimePoint now = SteadyClock::now();
    if (state_ != State::kOpen) {
      if (now < handshake_deadline_) {
        arm_timer(std::chrono::ceil<Millis>(handshake_deadline_ - now));
        return;
      }
      close(DropReason::kWsHandshakeTimeout,
            "WebSocket handshake not done within " + std::to_string(options_.stream.handshake_timeout.count()) + " ms");
      return;
    }
    const auto idle_for = now - last_activity_;
    if (idle_for >= options_.stream.idle_timeout) {
      close(DropReason::kIdle, "idle for " + std::to_string(options_.stream.idle_timeout.count()) + " ms");
      return;
    }
    arm_timer(std::chrono::ceil<Millis>(options_.stream.idle_timeout - idle_for));
  }

  void on_tls_handshake(const boost::system::error_code& ec) {
    if (state_ == State::kClosed) return;
    if (ec) {
      close(DropReason::kTlsHandshake, ec.message());
      return;
    }
    read_upgrade();
  }

  void read_upgrade() {
    state_ = State::kUpgradeRequest;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(options_.max_upgrade_bytes));
    parser_->body_limit(0);
    boost::beast::http::async_read(ws_.next_layer(), http_buffer_, *parser_,
                                   [self = this->shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                                     self->on_upgrade_request(ec);
                                   });
  }

  void on_upgrade_request(const boost::system::error_code& ec) {
    if (state_ != State::kUpgradeRequest) return;
    if (ec) {
      // RFC 6455 §4.2.1: only an HTTP/1.1 request can be upgraded; anything else is not answered.
      if (ws_detail::is_orderly_end(ec) && http_buffer_.size() == 0) {
        close(std::nullopt, "closed before an upgrade request");
      } else {
        close(DropReason::kWsNotHttp, "not an HTTP request: " + ec.message());
      }
      return;
    }
    auto checked = check_ws_upgrade(parser_->get(), *options_.origins);
    if (!checked) {
      refuse(std::move(checked.error()));
      return;
    }
    accept();
  }

  void refuse(WsRefusal refusal) {
    state_ = State::kRefusing;
    refusal_.emplace(make_ws_refusal(refusal));
    refusal_reason_ = refusal.reason;
    refusal_detail_ = std::to_string(static_cast<unsigned>(refusal.status)) + " " + refusal.detail;
    boost::beast::http::async_write(ws_.next_layer(), *refusal_,
                                    [self = this->shared_from_this()](const boost::system::error_code&, std::size_t) {
                                      // Answered or not, the connection ends here; the refusal is what is counted.
                                      self->close(self->refusal_reason_, self->refusal_detail_);
                                    });
  }

  void accept() {
    namespace websocket = boost::beast::websocket;
    state_ = State::kAccepting;
    ws_.read_message_max(options_.max_message_bytes);
    ws_.auto_fragment(false);  // one SIP message, one frame: simpler for every peer
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& response) {
      response.set(boost::beast::http::field::server, beast_view(kWsServerName));
      // RFC 6455 §4.2.2 item 5.4, RFC 7118 §4: select the subprotocol the client offered.
      response.set(boost::beast::http::field::sec_websocket_protocol, beast_view(kSipSubprotocol));
    }));
    ws_.control_callback([this](websocket::frame_type kind, boost::beast::string_view) {
      if (kind != websocket::frame_type::close) touch();
    });
    ws_.async_accept(parser_->get(),
                     [self = this->shared_from_this()](const boost::system::error_code& ec) { self->on_accept(ec); });
  }

  void on_accept(const boost::system::error_code& ec) {
    if (state_ != State::kAccepting) return;
    if (ec) {
      // check_ws_upgrade passed, so this is Beast refusing something we did not (or the socket).
      close(ws_detail::is_orderly_end(ec) ? std::nullopt : std::optional(DropReason::kWsBadUpgrade),
            "upgrade: " + ec.message());
      return;
    }
    state_ = State::kOpen;
    parser_.reset();
    http_buffer_.clear();
    http_buffer_.shrink_to_fit();
    touch();
    arm_timer(options_.stream.idle_timeout);
    if (events_ != nullptr) events_->on_ws_upgraded(peer_);
    if (state_ == State::kOpen) read();
  }

  void read() {
    ws_.async_read(read_buffer_, [self = this->shared_from_this()](const boost::system::error_code& ec, std::size_t) {
      self->on_read(ec);
    });
  }

  void on_read(const boost::system::error_code& ec) {
    if (state_ != State::kOpen) return;
    if (ec) {
      // Beast has already sent the close frame (1009 too big, 1002/1007 protocol) when it failed us.
      if (auto reason = ws_detail::read_drop_reason(ec)) {
        close(*reason, ec.message());
        return;
      }
      if (!ws_detail::is_orderly_end(ec)) {
        CHORUS_LOG(kDebug, "transport", "read error", {"peer", peer_.to_string()}, {"error", ec.message()});
      }
      close(std::nullopt, ec.message());
      return;
    }
    touch();
    const auto data = read_buffer_.cdata();
    deliver(std::string_view(static_cast<const char*>(data.data()), data.size()));
    read_buffer_.consume(read_buffer_.size());
    if (state_ == State::kOpen) read();
  }

  // RFC 7118 §5: the message is exactly one SIP message, so no stream framing is needed.
  void deliver(std::string_view payload) {
    switch (classify_ws_payload(payload)) {
      case WsPayload::kPing:
        if (events_ != nullptr) events_->on_stream_keepalive(peer_);
        send(std::string("\r\n"));
        return;
      case WsPayload::kKeepalive:
        if (events_ != nullptr) events_->on_stream_keepalive(peer_);
        return;
      case WsPayload::kSipMessage:
        break;
    }
    auto parsed = parse_datagram(payload, options_.stream.limits);
    if (events_ == nullptr) return;
    if (parsed) {
      events_->on_stream_message(std::move(*parsed), peer_);
    } else {
      events_->on_stream_bad_message(parsed.error(), peer_);
    }
  }

  void write() {
    writing_ = true;
    const std::string& front = write_queue_.front();
    ws_.text(send_as_text(front));
    ws_.async_write(boost::asio::buffer(front), [self = this->shared_from_this()](const boost::system::error_code& ec,
                                                                                  std::size_t) { self->on_write(ec); });
  }

  void on_write(const boost::system::error_code& ec) {
    writing_ = false;
    if (state_ == State::kClosed) return;
    if (ec) {
      close(ws_detail::is_orderly_end(ec) ? std::nullopt : std::optional(DropReason::kSendFailed),
            "write: " + ec.message());
      return;
    }
    queued_bytes_ -= write_queue_.front().size();
    write_queue_.pop_front();
    touch();
    if (!write_queue_.empty()) write();
  }

  void touch() { last_activity_ = SteadyClock::now(); }

  std::shared_ptr<boost::asio::ssl::context> tls_context_;  // before ws_: outlives the TLS stream
  boost::beast::websocket::stream<NextLayer> ws_;
  boost::asio::steady_timer timer_;
  ConnectionEvents* events_;
  WsOptions options_;
  State state_ = State::kUpgradeRequest;
  TimePoint last_activity_;
  TimePoint handshake_deadline_;

  boost::beast::flat_buffer http_buffer_;  // limited to max_upgrade_bytes
  std::optional<boost::beast::http::request_parser<boost::beast::http::empty_body>> parser_;
  std::optional<WsRefusalResponse> refusal_;
  DropReason refusal_reason_ = DropReason::kWsBadUpgrade;
  std::string refusal_detail_;

  boost::beast::flat_buffer read_buffer_;  // reused: its storage grows to the largest message once
  std::deque<std::string> write_queue_;
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
};

}  // namespace chorus::sip
