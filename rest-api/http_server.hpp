// HttpServer: the REST API's HTTP/1.1 server (Boost.Beast), with keep-alive and Server-Sent
// Events, on its own thread ("rest") and io_context (DESIGN §2).
//
// Threading: one thread runs the server's io_context; every session, the acceptor and the server's
// bookkeeping live there, so none of it takes a lock. start() and stop() are called from the
// owning thread (server wiring). Each complete request is handed to RequestHandler::handle, and
// the session co_awaits the result; the wiring's handler runs the Router on the control loop by
// co_spawn-ing onto the control executor, so nothing on the REST thread touches domain state.
//
// Limits (DESIGN §5, every ingress has one): request body (413), header block (431), concurrent
// connections (503 then close) and connections per source address (the same), refused
// connections in flight (beyond that a connection is closed at once), and time (issue 12,
// slowloris): a new connection's first header block must be complete within `header_timeout` of
// the accept; on keep-alive the wait for the next request's first byte is bounded by
// `idle_timeout`, and from that byte its header block has `header_timeout`; a body has
// `body_timeout` from the end of its header. Past a deadline the connection is closed, after a 408
// when some of the request had arrived (RFC 9110 §15.5.9). Each write has `idle_timeout`.
//
// Lifetime: stop() closes the listener and every connection, lets sessions that wait on the
// handler finish for up to `stop_grace`, then stops the loop and joins. A handler still running
// on another executor after that holds a reference to this server's executor: destroy the server
// only after the executor that runs handlers has finished them (stop the REST server first, then
// the control loop, then destroy both).
#pragma once

#include <utility>  // before Boost 1.74 awaitable.hpp, which uses std::exchange without it

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <thread>

#include "rest-api/http_message.hpp"

namespace chorus::rest {

class HttpMetrics;
struct SessionHub;

struct HttpServerConfig {
  std::string bind_address = "0.0.0.0";
  std::uint16_t port = 8080;                         // 0: any free port, see HttpServer::port()
  std::size_t body_limit = 1024 * 1024;              // larger request bodies get 413
  std::uint32_t header_limit = 16 * 1024;            // larger header blocks get 431
  std::chrono::milliseconds idle_timeout{30'000};    // keep-alive wait for the next request's first byte; each write
  std::size_t max_connections = 256;                 // one more gets 503 and is closed
  std::size_t max_connections_per_ip = 32;           // the same per source address (loopback too); 0: no cap
  std::chrono::milliseconds header_timeout{10'000};  // a request's header block (408 and close)
  std::chrono::milliseconds body_timeout{30'000};    // a request's body, from the end of its header
  std::chrono::milliseconds keepalive_interval{15'000};  // event streams: a comment line when quiet this long
  std::chrono::milliseconds stop_grace{2'000};           // stop(): how long sessions may finish a handler
  HttpMetrics* metrics = nullptr;                        // optional; outlives the server
};

// What the server calls for each complete request (on the REST thread). The returned awaitable
// may complete on another executor; the session resumes on the REST thread.
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  virtual boost::asio::awaitable<HttpResponse> handle(HttpRequest request) = 0;
};

class HttpServer {
 public:
  // `handler` outlives the server.
  HttpServer(HttpServerConfig config, RequestHandler& handler);
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the thread. The error names the address and the cause. Once only.
  std::expected<void, std::string> start();
  // Idempotent; returns once the thread has joined (after at most about `stop_grace`).
  void stop();

  // The bound port (the chosen one when the config said 0); 0 before start().
  [[nodiscard]] std::uint16_t port() const { return port_.load(std::memory_order_relaxed); }
  // Open connections, refused ones included (any thread; for tests and status lines).
  [[nodiscard]] std::size_t connections() const { return connections_.load(std::memory_order_relaxed); }

 private:
  boost::asio::awaitable<void> accept_loop();
  // Serves, or refuses (global cap, per-address cap), one accepted connection.
  void admit(boost::asio::ip::tcp::socket socket);
  boost::asio::awaitable<void> finish_stop();
  void close_all();

  // Declared before io_: sessions destroyed with io_ still reach the hub and the counters.
  HttpServerConfig config_;
  std::atomic<std::uint16_t> port_{0};
  std::atomic<std::size_t> connections_{0};
  std::unique_ptr<SessionHub> hub_;
  boost::asio::io_context io_{1};
  boost::asio::ip::tcp::acceptor acceptor_{io_};
  std::thread thread_;
  bool started_ = false;
};

}  // namespace chorus::rest
