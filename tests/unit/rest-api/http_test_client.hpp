// A blocking HTTP/1.1 client over a plain POSIX socket for the server tests: every receive has a
// timeout (SO_RCVTIMEO), so a test never waits unbounded. It is a Beast SyncReadStream, so
// responses are parsed with Beast's own parser.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace chorus::rest::test {

class HttpTestClient {
 public:
  // `source`: the local IPv4 address to connect from (e.g. "127.0.0.2" for a second loopback peer);
  // empty: the kernel's choice.
  explicit HttpTestClient(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(5),
                          std::string_view source = {}) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (!source.empty()) {
      sockaddr_in local{};
      local.sin_family = AF_INET;
      if (::inet_pton(AF_INET, std::string(source).c_str(), &local.sin_addr) != 1 ||
          ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
        ::close(fd_);
        throw std::runtime_error("bind to the source address failed");
      }
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      throw std::runtime_error("connect failed");
    }
  }
  ~HttpTestClient() { close(); }
  HttpTestClient(const HttpTestClient&) = delete;
  HttpTestClient& operator=(const HttpTestClient&) = delete;

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // false when the peer closed or the send timed out.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const auto sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (sent <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(sent));
    }
    return true;
  }

  // One response; throws boost::system::system_error on timeout, close or parse error.
  boost::beast::http::response<boost::beast::http::string_body> read_response() {
    boost::beast::http::response<boost::beast::http::string_body> response;
    boost::beast::http::read(*this, buffer_, response);
    return response;
  }

  // True when the peer closes the connection within the receive timeout (bytes still in flight
  // are read and dropped first).
  bool wait_closed() {
    char scratch[4096];
    while (true) {
      const auto got = ::recv(fd_, scratch, sizeof scratch, 0);
      if (got == 0) return true;
      if (got < 0) return errno == ECONNRESET;
    }
  }

  boost::beast::flat_buffer& buffer() { return buffer_; }

  // SyncReadStream.
  template <typename MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers, boost::system::error_code& ec) {
    ec = {};
    for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers); ++it) {
      const boost::asio::mutable_buffer buffer(*it);
      if (buffer.size() == 0) continue;
      const auto got = ::recv(fd_, buffer.data(), buffer.size(), 0);
      if (got > 0) return static_cast<std::size_t>(got);
      if (got == 0) {
        ec = boost::asio::error::eof;
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        ec = boost::asio::error::timed_out;
      } else {
        ec = boost::system::error_code(errno, boost::system::system_category());
      }
      return 0;
    }
    return 0;
  }
  template <typename MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers) {
    boost::system::error_code ec;
    const auto n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

 private:
  int fd_ = -1;
  boost::beast::flat_buffer buffer_;
};

}  // namespace chorus::rest::test
