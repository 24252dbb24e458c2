// Shared by the transport tests: a recording TransportListener, bounded io_context loops, and
// loopback UDP/TCP peers driven by the same io_context as the layer under test.
#pragma once

#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "signaling/message/message_parser.hpp"
#include "signaling/transport/message_sink.hpp"

namespace chorus::sip::testing {

namespace asio = boost::asio;

// Generous: a bound only against hangs, never a timing the test depends on.
inline constexpr std::chrono::seconds kBound{10};

class RecordingListener final : public TransportListener {
 public:
  struct Received {
    SipMessage message;
    PeerAddress source;
  };
  std::vector<Received> messages;
  std::vector<std::pair<ParseError, PeerAddress>> bad;

  void on_message(SipMessage message, const PeerAddress& source) override {
    messages.push_back({std::move(message), source});
  }
  void on_bad_message(const ParseError& error, const PeerAddress& source) override { bad.emplace_back(error, source); }
};

// Runs `io` in short slices until `done()` holds or the bound passes; returns done().
template <typename Done>
bool run_until(asio::io_context& io, Done done, std::chrono::milliseconds bound = kBound) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    io.restart();
    io.run_for(std::chrono::milliseconds(5));
  }
  return true;
}

// Runs `io` for a while, for checks that something does NOT happen (a second delivery).
inline void run_for(asio::io_context& io, std::chrono::milliseconds duration) {
  const auto deadline = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(std::chrono::milliseconds(5));
  }
}

inline const asio::ip::address kLoopback = asio::ip::address_v4::loopback();

// An OPTIONS request whose top Via is `via` (RFC 3261 §11 shape, Content-Length framed).
inline std::string options_request(std::string_view via, std::string_view call_id = "a84b4c76e66710@pc33",
                                   std::string_view body = {}) {
  std::string text = "OPTIONS sip:1000@127.0.0.1 SIP/2.0\r\n";
  text += "Via: " + std::string(via) + "\r\n";
  text += "Max-Forwards: 70\r\n";
  text += "To: <sip:1000@127.0.0.1>\r\n";
  text += "From: <sip:alice@127.0.0.1>;tag=1928301774\r\n";
  text += "Call-ID: " + std::string(call_id) + "\r\n";
  text += "CSeq: 63104 OPTIONS\r\n";
  text += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  text += body;
  return text;
}

class UdpPeer {
 public:
  explicit UdpPeer(asio::io_context& io) : socket_(io, asio::ip::udp::endpoint(kLoopback, 0)) { receive(); }
  [[nodiscard]] std::uint16_t port() const { return socket_.local_endpoint().port(); }
  void send(std::string_view text, std::uint16_t to_port) {
    socket_.send_to(asio::buffer(text.data(), text.size()), asio::ip::udp::endpoint(kLoopback, to_port));
  }
  std::vector<std::string> received;

 private:
  void receive() {
    socket_.async_receive_from(asio::buffer(buffer_), from_,
                               [this](const boost::system::error_code& ec, std::size_t n) {
                                 if (ec) return;
                                 received.emplace_back(buffer_.data(), n);
                                 receive();
                               });
  }
  asio::ip::udp::socket socket_;
  asio::ip::udp::endpoint from_;
  std::array<char, 65536> buffer_{};
};

// A plain TCP client that records everything it reads and whether the server closed on it.
class TcpPeer {
 public:
  TcpPeer(asio::io_context& io, std::uint16_t port) : socket_(io) {
    socket_.connect(asio::ip::tcp::endpoint(kLoopback, port));
    receive();
  }
  explicit TcpPeer(asio::ip::tcp::socket socket) : socket_(std::move(socket)) { receive(); }
  void write(std::string_view text) { asio::write(socket_, asio::buffer(text.data(), text.size())); }
  [[nodiscard]] std::uint16_t local_port() const { return socket_.local_endpoint().port(); }
  std::string received;
  bool closed = false;

 private:
  void receive() {
    socket_.async_read_some(asio::buffer(buffer_), [this](const boost::system::error_code& ec, std::size_t n) {
      if (ec == asio::error::operation_aborted) return;  // this peer is gone
      if (ec) {
        closed = true;
        return;
      }
      received.append(buffer_.data(), n);
      receive();
    });
  }
  asio::ip::tcp::socket socket_;
  std::array<char, 16384> buffer_{};
};

}  // namespace chorus::sip::testing
