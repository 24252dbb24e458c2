// HttpSession: one accepted connection of the REST server (internal to rest-api; HttpServer is
// the interface). Its life is its running coroutine, which holds the shared_ptr: read a request
// (header, then body), await the handler, write the response, repeat while keep-alive holds. An
// event-stream response turns the session into a writer pulling from the stream's source, with a
// second coroutine watching the socket so a client that goes away ends the stream at once.
//
// A session over the connection cap only answers 503 and closes (refuse()).
//
// Threading: the server's REST thread only.
#pragma once

#include <utility>  // before Boost 1.74 awaitable.hpp, which uses std::exchange without it

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>

#include "rest-api/http_message.hpp"
#include "rest-api/http_server.hpp"

namespace chorus::rest {

class HttpSession;

// What the sessions share with their server (REST thread only).
struct SessionHub {
  const HttpServerConfig& config;
  RequestHandler& handler;
  std::atomic<std::size_t>& open_connections;                              // mirrored for other threads
  std::unordered_map<std::uint64_t, std::weak_ptr<HttpSession>> sessions;  // serving and refusing
  std::size_t serving = 0;
  std::size_t refusing = 0;
  std::uint64_t next_id = 1;
  bool stopping = false;
};

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(boost::asio::ip::tcp::socket socket, SessionHub& hub, bool refused);
  ~HttpSession();
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  // Registers the session and spawns its coroutine (serve or refuse).
  static void launch(boost::asio::ip::tcp::socket socket, SessionHub& hub, bool refused);

  // Server stop: abort pending reads and writes and end any event stream.
  void close();

 private:
  boost::asio::awaitable<void> serve();
  boost::asio::awaitable<void> refuse();
  // One request/response exchange; false: the connection is done.
  boost::asio::awaitable<bool> exchange();
  boost::asio::awaitable<bool> answer_read_error(boost::system::error_code ec);
  boost::asio::awaitable<HttpResponse> call_handler(HttpRequest request);
  boost::asio::awaitable<bool> write(BeastResponse& message, unsigned version, bool keep_alive);
  // Writes an error response, then closes without resetting the connection.
  boost::asio::awaitable<void> write_and_linger(HttpResponse response);
  boost::asio::awaitable<void> linger_close();
  boost::asio::awaitable<void> stream_events(HttpResponse response, unsigned version);
  boost::asio::awaitable<void> watch_for_close();

  SessionHub& hub_;
  const std::uint64_t id_;
  const bool refused_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  boost::asio::ip::address remote_;
  std::shared_ptr<EventStreamSource> source_;  // while streaming
  bool closing_ = false;
};

}  // namespace chorus::rest
