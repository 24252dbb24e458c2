// UdpTransport: the SIP UDP socket (RFC 3261 §18). One socket receives every datagram and sends
// every UDP request and response, so replies leave from the port the peer wrote to (RFC 3581 §4
// relies on this to cross NATs).
//
// Threading: control loop only. Lifetime: a shared_ptr kept alive by its pending receive; close()
// detaches the owner, so a late completion never reaches a destroyed TransportLayer.
// Receiving: on readiness, recvmmsg(2) batches of up to 8 datagrams, at most 4 batches, delivered
// one by one in arrival order inside one WakeBatch (common/wake_batch.hpp): the media workers the
// burst's calls hand work to are woken once, after it.
// Sending: what is sent while a batch is delivered (the answers to what it read) is queued and
// leaves in one sendmmsg(2) when the batch has been handled, in the order it was sent; anything
// else leaves at once. Issue 13: one system call per datagram, and on loopback one wake-up of the
// receiving process per datagram, were a fifth of chorusd's time at 8,000 joins/s. A datagram the
// kernel refuses then is reported to UdpEvents::on_send_failed instead of to its sender.
#pragma once

#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cstdint>
#include <expected>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/dscp.hpp"

namespace chorus::sip {

class UdpEvents {
 public:
  virtual ~UdpEvents() = default;
  virtual void on_datagram(std::string_view bytes, const boost::asio::ip::udp::endpoint& from) = 0;
  // A datagram queued during a batch (send_to said it was taken) that the kernel then refused.
  virtual void on_send_failed(const boost::asio::ip::udp::endpoint& /*to*/, const boost::system::error_code& /*ec*/) {}
};

class UdpTransport : public std::enable_shared_from_this<UdpTransport> {
 public:
  // RFC 3261 §18.1.1 bounds a UDP message by the IP datagram size.
  static constexpr std::size_t kMaxDatagram = 65535;
  // Datagrams one recvmmsg(2) takes, and the calls one readiness makes before the control loop
  // turns to its other work (timers, REST) and comes back (issue 13: one system call and one
  // media-worker wake per burst instead of per datagram).
  static constexpr std::size_t kDatagramsPerRead = 8;
  static constexpr std::size_t kReadsPerWake = 4;
  // Datagrams one sendmmsg(2) takes; a batch that sends more flushes as it goes.
  static constexpr std::size_t kSendsPerFlush = 16;

  // What left through send_to, and in how many system calls.
  struct SendStats {
    std::uint64_t datagrams = 0;
    std::uint64_t system_calls = 0;
  };

  UdpTransport(boost::asio::io_context& io, UdpEvents& events);

  // Opens and binds; the error names the address and the cause ("Address already in use").
  // `marking`: the DSCP everything sent is marked with (a refusal is counted, never an error).
  // `receive_buffer`: SO_RCVBUF asked for (0: the kernel's default). A burst of requests while the
  // control loop is busy waits there instead of being dropped by the kernel (then retransmitted by
  // every caller 500 ms later, RFC 3261 Timer A/E); the kernel caps it at net.core.rmem_max (logged).
  std::expected<void, std::string> open(const boost::asio::ip::udp::endpoint& local, const SocketMarking& marking = {},
                                        std::size_t receive_buffer = 0);
  void start();  // begins the receive loop
  void close();  // idempotent; no event is delivered afterwards

  [[nodiscard]] std::uint16_t port() const;
  [[nodiscard]] bool is_open() const { return socket_.is_open(); }

  // Sends without blocking (the socket is non-blocking); the error says why it was not sent
  // (would_block under pressure, address family mismatch, unreachable network). While a received
  // batch is delivered the datagram is queued instead (no error) and leaves after the batch.
  boost::system::error_code send_to(std::string_view bytes, boost::asio::ip::udp::endpoint to);
  [[nodiscard]] SendStats send_stats() const { return send_stats_; }

 private:
  void size_receive_buffer(std::size_t wanted);
  void receive();  // waits for the socket to be readable
  void on_readable(const boost::system::error_code& ec);
  // Reads and delivers what is queued, up to kReadsPerWake reads; true: more may be waiting.
  bool read_burst();
  // Hands `count` datagrams read into buffers_ to the owner, then sends what they made it send;
  // false when the owner closed the transport meanwhile.
  bool deliver(std::span<const mmsghdr> messages, std::span<const sockaddr_storage> senders, std::size_t count);
  // Sends the queued datagrams (sendmmsg), reporting each one the kernel refuses.
  void flush_sends();

  boost::asio::ip::udp::socket socket_;
  UdpEvents* events_;
  boost::asio::ip::udp::endpoint local_;  // the bound address, read once after bind
  std::vector<char> buffers_;             // kDatagramsPerRead × kMaxDatagram, one per datagram of a read
  bool queue_sends_ = false;              // a received batch is being delivered
  struct QueuedDatagram {
    std::size_t end;  // where it ends in queued_bytes_ (it starts where the one before ends)
    boost::asio::ip::udp::endpoint to;
  };
  std::string queued_bytes_;  // the queued datagrams, back to back
  std::vector<QueuedDatagram> queued_;
  SendStats send_stats_;
};

}  // namespace chorus::sip
