// StreamAcceptor: a listening TCP socket for SIP over TCP or TLS (RFC 3261 §18). It only accepts;
// the TransportLayer decides whether a new connection may stay (connection caps) and wraps it.
//
// Threading: control loop only. Lifetime: a shared_ptr kept alive by its pending accept; close()
// detaches the owner.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <expected>
#include <memory>
#include <string>

#include "common/dscp.hpp"
#include "signaling/transport/peer_address.hpp"

namespace chorus::sip {

class AcceptorEvents {
 public:
  virtual ~AcceptorEvents() = default;
  virtual void on_accepted(TransportKind kind, boost::asio::ip::tcp::socket socket) = 0;
};

class StreamAcceptor : public std::enable_shared_from_this<StreamAcceptor> {
 public:
  StreamAcceptor(boost::asio::io_context& io, TransportKind kind, AcceptorEvents& events);

  // Opens, binds and listens; the error names the address and the cause. `marking`: the DSCP of
  // the listener (its SYN-ACKs) and of every connection it accepts (a refusal is counted, not an error).
  std::expected<void, std::string> open(const boost::asio::ip::tcp::endpoint& local, const SocketMarking& marking = {});
  void start();  // begins the accept loop
  void close();  // idempotent; no event is delivered afterwards

  [[nodiscard]] std::uint16_t port() const;

 private:
  void accept();
  void on_accept(const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket);

  TransportKind kind_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::uint16_t local_port_ = 0;
  SocketMarking marking_;
  boost::asio::steady_timer retry_timer_;
  AcceptorEvents* events_;
};

}  // namespace chorus::sip
