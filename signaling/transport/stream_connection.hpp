// StreamConnection: one SIP connection over TCP or TLS (RFC 3261 §18), inbound or outbound.
//
// Receiving: bytes go through a StreamFramer (Content-Length framing, §18.3); each whole message
// or answerable parse error goes to the owner. When framing is lost (an oversized or unframeable
// message) the connection reads nothing more, answers nothing more, writes out what was already
// queued (a 513 the owner answered to the framer's last error) and closes; a feed past the buffer
// limit closes at once. A double-CRLF keepalive ping between messages, which the framer skips and
// counts, is answered with a single CRLF (RFC 5626 §4.4.1).
// Sending: messages queue in order and are written one at a time; a peer that lets more than
// max_write_queue_bytes pile up is disconnected. While an outbound connection is still connecting
// (and, for TLS, handshaking) its messages wait in the same queue.
// Limits: a handshake deadline (connect + TLS), then an idle timeout reset by traffic both ways.
//
// Threading: control loop only; no locks. Lifetime (Boost.Beast style): a shared_ptr kept alive by
// its pending read, write or timer. close() detaches the owner; completions that arrive after it
// see the closed state and do nothing.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/dscp.hpp"
#include "common/timer_queue.hpp"
#include "signaling/message/message_parser.hpp"
#include "signaling/transport/peer_address.hpp"
#include "signaling/transport/transport_connection.hpp"
#include "signaling/transport/transport_counters.hpp"

namespace chorus::sip {

struct StreamOptions {
  Millis idle_timeout{std::chrono::seconds(120)};
  Millis handshake_timeout{std::chrono::seconds(10)};
  std::size_t max_write_queue_bytes = 1 << 20;
  ParseLimits limits;
  SocketMarking marking;  // DSCP of an outbound connection, set before it connects (the SYN carries it)
};

class StreamConnection final : public TransportConnection, public std::enable_shared_from_this<StreamConnection> {
 public:
  // `tls` set: the connection speaks TLS over `socket` (server role for start_accepted(), client
  // role for start_connect()). The context is shared so it outlives every connection using it.
  StreamConnection(ConnectionId id, TransportKind kind, boost::asio::ip::tcp::socket socket,
                   std::shared_ptr<boost::asio::ssl::context> tls, ConnectionEvents& events, StreamOptions options);

  // Inbound: `socket` is connected; handshake (TLS) and start reading.
  void start_accepted() override;
  // Outbound: connect `socket` (already bound to a local address if one is wanted) to `remote`.
  void start_connect(const boost::asio::ip::tcp::endpoint& remote);

  // Queues `bytes`; false when the connection is closed, when the message alone exceeds the queue
  // limit, or when the queue overflows (then the connection is closed as a slow reader).
  bool send(std::string bytes) override;
  // Idempotent. Reports on_stream_closed once.
  void close(std::optional<DropReason> reason, std::string_view detail) override;
  [[nodiscard]] bool is_closed() const override { return state_ == State::kClosed; }

 private:
  // kDraining: framing lost; no more reads or new sends, the queue is flushed, then closed.
  enum class State { kConnecting, kHandshaking, kOpen, kDraining, kClosed };

  boost::asio::ip::tcp::socket& lowest_layer();
  void arm_timer(Millis after);
  void on_timer(const boost::system::error_code& ec);
  void on_connect(const boost::system::error_code& ec);
  void handshake(bool server);
  void on_handshake(const boost::system::error_code& ec);
  void on_ready();
  void read();
  void on_read(const boost::system::error_code& ec, std::size_t size);
  void drain_framer();
  void answer_pings(std::size_t pings);
  void close_after_writes(DropReason reason, std::string detail);
  void write();
  void on_write(const boost::system::error_code& ec);
  void touch() { last_activity_ = SteadyClock::now(); }

  State state_ = State::kConnecting;
  boost::asio::ip::tcp::socket socket_;  // the plain transport; moved into tls_stream_ for TLS
  std::shared_ptr<boost::asio::ssl::context> tls_context_;
  std::optional<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>> tls_stream_;
  boost::asio::steady_timer timer_;
  ConnectionEvents* events_;
  StreamOptions options_;
  TimePoint last_activity_;
  TimePoint handshake_deadline_;  // connect + TLS handshake must end by then

  StreamFramer framer_;
  std::array<char, 16 * 1024> read_buffer_{};

  std::deque<std::string> write_queue_;
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
  std::optional<std::pair<DropReason, std::string>> close_when_flushed_;  // kDraining
};

}  // namespace chorus::sip
