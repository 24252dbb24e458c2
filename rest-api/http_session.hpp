// HttpSession: one accepted connection of the REST server (internal to rest-api; HttpServer is
// the interface). Its life is its running coroutine, which holds the shared_ptr: read a request
// (header, then body), await the handler, write the response, repeat while keep-alive holds. An
// event-stream response turns the session into a writer pulling from the stream's source, with a
// second coroutine watching the socket so a client that goes away ends the stream at once. A file
// response is written as its header and then the file's bytes, read and written one bounded chunk
// at a time; the connection then serves the next request.
//
// A session over the connection cap (or its address's) only answers 503 and closes (refuse()).
// A serving session holds one count of its address in the hub's PerAddressCounter until it ends.
//
// Threading: the server's REST thread only.
#pragma once

#include <utility>  // before Boost 1.74 awaitable.hpp, which uses std::exchange without it

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>

#include "rest-api/connection_guard.hpp"
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
  PerAddressCounter per_address{config.max_connections_per_ip};  // serving sessions only
  LogGate refusal_log;                                           // per-address refusals
  LogGate timeout_log;                                           // header/body timeouts
};

// How the accept loop admits a connection.
enum class Admission : std::uint8_t {
  kServe,
  kRefuseBusy,       // the server holds max_connections: 503
  kRefusePerAddress  // its address holds max_connections_per_ip: 503
};

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  // `remote`: the peer's address, as the accept loop counted it.
  HttpSession(boost::asio::ip::tcp::socket socket, boost::asio::ip::address remote, SessionHub& hub,
              Admission admission);
  ~HttpSession();
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  // Registers the session and spawns its coroutine (serve or refuse).
  static void launch(boost::asio::ip::tcp::socket socket, boost::asio::ip::address remote, SessionHub& hub,
                     Admission admission);

  // Server stop: abort pending reads and writes and end any event stream.
  void close();

 private:
  boost::asio::awaitable<void> serve();
  boost::asio::awaitable<void> refuse();
  // One request/response exchange; false: the connection is done.
  boost::asio::awaitable<bool> exchange();
  // The keep-alive wait: true once the next request's first bytes are in buffer_.
  boost::asio::awaitable<bool> await_next_request();
  boost::asio::awaitable<bool> answer_read_error(boost::system::error_code ec, bool reading_body);
  // A header or body deadline passed: count, log (gated), 408 when some of it arrived.
  boost::asio::awaitable<void> answer_timeout(bool reading_body, bool request_started);
  // The slowloris deadline of one read: on expiry the socket's pending read is cancelled (not the
  // socket closed, as beast's own timer would), so a 408 can still be written.
  void arm_read_deadline(std::chrono::milliseconds timeout);
  void disarm_read_deadline();
  boost::asio::awaitable<HttpResponse> call_handler(HttpRequest request);
  boost::asio::awaitable<bool> write(BeastResponse& message, unsigned version, bool keep_alive);
  // Writes an error response, then closes without resetting the connection.
  boost::asio::awaitable<void> write_and_linger(HttpResponse response);
  boost::asio::awaitable<void> linger_close();
  boost::asio::awaitable<void> stream_events(HttpResponse response, unsigned version);
  // The header, then (unless `head_only`) the file slice; false: the connection is done (a write
  // failed or timed out, the file ended early, the server is stopping).
  boost::asio::awaitable<bool> send_file(HttpResponse response, unsigned version, bool keep_alive, bool head_only);
  boost::asio::awaitable<void> watch_for_close();

  SessionHub& hub_;
  const std::uint64_t id_;
  const Admission admission_;
  const bool refused_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  boost::asio::ip::address remote_;
  boost::asio::steady_timer read_deadline_;
  std::uint64_t deadline_generation_ = 0;  // a deadline's handler acts only for its own read
  bool read_timed_out_ = false;
  bool first_request_ = true;
  std::shared_ptr<EventStreamSource> source_;  // while streaming
  bool closing_ = false;
};

}  // namespace chorus::rest
