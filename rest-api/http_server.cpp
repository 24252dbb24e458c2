#include "rest-api/http_server.hpp"

#include <pthread.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log.hpp"
#include "rest-api/http_session.hpp"
#include "rest-api/metrics.hpp"

namespace chorus::rest {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

// accept() failing with EMFILE/ENFILE would otherwise spin; wait before the next try.
constexpr std::chrono::milliseconds kAcceptRetry{100};
constexpr std::chrono::milliseconds kStopPoll{10};

}  // namespace

HttpServer::HttpServer(HttpServerConfig config, RequestHandler& handler)
    : config_(std::move(config)), hub_(std::make_unique<SessionHub>(SessionHub{config_, handler, connections_})) {}

HttpServer::~HttpServer() {
  stop();
}

std::expected<void, std::string> HttpServer::start() {
  if (started_) return std::unexpected("the HTTP server was already started");
  error_code ec;
  const auto address = asio::ip::make_address(config_.bind_address, ec);
  if (ec) return std::unexpected("bad HTTP bind address \"" + config_.bind_address + "\": " + ec.message());
  const tcp::endpoint local(address, config_.port);
  const auto where = [&] { return address.to_string() + ":" + std::to_string(config_.port); };
  acceptor_.open(local.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(local, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error_code ignored;
    acceptor_.close(ignored);
    return std::unexpected("cannot listen for HTTP on " + where() + ": " + ec.message());
  }
  port_.store(acceptor_.local_endpoint(ec).port(), std::memory_order_relaxed);
  started_ = true;
  asio::co_spawn(io_, accept_loop(), asio::detached);
  thread_ = std::thread([this] {
    ::pthread_setname_np(::pthread_self(), "rest");  // shown in /proc/PID/task/*/comm and top -H
    io_.run();
  });
  return {};
}

void HttpServer::stop() {
  if (!thread_.joinable()) return;
  asio::post(io_, [this] {
    close_all();
    asio::co_spawn(io_, finish_stop(), asio::detached);
  });
  thread_.join();
}

void HttpServer::close_all() {
  hub_->stopping = true;
  error_code ignored;
  acceptor_.close(ignored);
  // Copy first: a session may end (and erase itself) while we close the others.
  std::vector<std::shared_ptr<HttpSession>> open;
  for (const auto& [id, weak] : hub_->sessions) {
    if (auto session = weak.lock()) open.push_back(std::move(session));
  }
  for (const auto& session : open) session->close();
}

asio::awaitable<void> HttpServer::finish_stop() {
  // Closed sessions end on their next step; one waiting for the handler ends when it returns.
  // Give those `stop_grace`, then stop the loop regardless (the remaining frames are destroyed
  // with the io_context).
  const auto deadline = std::chrono::steady_clock::now() + config_.stop_grace;
  asio::steady_timer timer(io_);
  while (!hub_->sessions.empty() && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(kStopPoll);
    error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (!hub_->sessions.empty()) {
    CHORUS_LOG(kWarn, "rest", "stopping with requests still in the handler", {"sessions", hub_->sessions.size()});
  }
  io_.stop();
}

asio::awaitable<void> HttpServer::accept_loop() {
  asio::steady_timer retry(io_);
  while (!hub_->stopping) {
    error_code ec;
    tcp::socket socket = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (hub_->stopping || ec == asio::error::operation_aborted) break;
    if (ec) {
      CHORUS_LOG(kWarn, "rest", "accept failed", {"error", ec.message()});
      retry.expires_after(kAcceptRetry);
      co_await retry.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    admit(std::move(socket));
  }
}

void HttpServer::admit(tcp::socket socket) {
  error_code ec;
  const auto remote = canonical_address(socket.remote_endpoint(ec).address());
  if (ec) return;  // the peer is gone already (reset before we got to it)
  Admission admission = Admission::kServe;
  if (hub_->serving >= config_.max_connections) {
    admission = Admission::kRefuseBusy;
  } else if (!hub_->per_address.try_acquire(remote)) {
    // Issue 12: one address cannot hold every slot; the others still get in.
    admission = Admission::kRefusePerAddress;
    if (config_.metrics != nullptr) config_.metrics->on_connection_refused_per_ip();
    if (const auto held_back = hub_->refusal_log.pass(std::chrono::steady_clock::now())) {
      CHORUS_LOG(kWarn, "security", "http_connection_refused", {"source", remote.to_string()}, {"reason", "per_ip"},
                 {"limit", config_.max_connections_per_ip}, {"held_back", *held_back});
    }
  }
  if (admission == Admission::kServe || hub_->refusing < config_.max_connections) {
    HttpSession::launch(std::move(socket), remote, *hub_, admission);  // a refusal: 503, then close
  }
  // Else even the refusals are at their limit: the socket closes here without a word.
}

}  // namespace chorus::rest
