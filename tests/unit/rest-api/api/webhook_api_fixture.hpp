// The webhook route and fan-out tests: AdminApiTest plus a WebhookDispatcher whose attempts a
// StoreDeliveryRecorder posts to `control_` — an io_context the test thread pumps, as it plays
// the control loop — and a WebhookFanout on the fixture's EventLog. Also a local HTTP receiver.
#pragma once

#include <utility>  // before Boost 1.74 awaitable.hpp, which uses std::exchange without it

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <functional>
#include <mutex>
#include <thread>

#include "rest-api/api/webhook_fanout.hpp"
#include "rest-api/api/webhook_routes.hpp"
#include "rest-api/webhooks/webhook_dispatcher.hpp"
#include "tests/unit/rest-api/api/admin_api_fixture.hpp"

namespace chorus::rest::test {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// What a receiver got: the Standard Webhooks headers and the body.
struct ReceivedPost {
  std::string target;
  std::string webhook_id;
  std::string webhook_timestamp;
  std::string webhook_signature;
  std::string body;
};

// Beast HTTP/1.1 on 127.0.0.1:0 on its own thread; answers the n-th request with statuses[n] (the
// last repeats) and closes.
class WebhookReceiver {
 public:
  explicit WebhookReceiver(std::vector<int> statuses = {200})
      : statuses_(std::move(statuses)), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    asio::co_spawn(io_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~WebhookReceiver() {
    io_.stop();
    thread_.join();
  }
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  [[nodiscard]] std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/hooks";
  }
  std::vector<ReceivedPost> posts() {
    const std::lock_guard lock(mutex_);
    return posts_;
  }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      boost::system::error_code ec;
      auto socket = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
    }
  }
  asio::awaitable<void> serve(asio::ip::tcp::socket socket) {
    boost::beast::flat_buffer buffer;
    http::request<http::string_body> request;
    boost::system::error_code ec;
    co_await http::async_read(socket, buffer, request, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    std::size_t index = 0;
    {
      const std::lock_guard lock(mutex_);
      posts_.push_back({std::string(request.target()), std::string(request["webhook-id"]),
                        std::string(request["webhook-timestamp"]), std::string(request["webhook-signature"]),
                        request.body()});
      index = std::min(posts_.size() - 1, statuses_.size() - 1);
    }
    http::response<http::string_body> response{static_cast<http::status>(statuses_[index]), 11};
    response.set(http::field::connection, "close");
    response.prepare_payload();
    co_await http::async_write(socket, response, asio::redirect_error(asio::use_awaitable, ec));
    socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  }

  const std::vector<int> statuses_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::mutex mutex_;
  std::vector<ReceivedPost> posts_;
  std::thread thread_;
};

class WebhookApiTest : public AdminApiTest {
 protected:
  void SetUp() override {
    services_.webhook_policy.allow_private = true;  // the receivers are on loopback (issue 12)
    add_webhook_routes(router_, services_, fanout_);
  }

  // Runs the control loop's ready handlers (the recorder's writes) until `done`, for at most
  // `limit`; tests assert on the outcome, never on timing.
  bool pump_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      control_.restart();
      control_.poll();
      if (done()) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(5ms);
    }
  }

  nlohmann::json create_webhook(const std::string& url, std::vector<std::string> types) {
    const auto response = call(http::verb::post, "/v1/webhooks", kAdminToken, {{"url", url}, {"event_types", types}});
    EXPECT_EQ(response.status(), 201U) << response.message.body();
    return body_of(response);
  }

  nlohmann::json deliveries(const std::string& webhook_id, const std::string& query = {}) {
    const auto response = call(http::verb::get, "/v1/webhooks/" + webhook_id + "/deliveries" + query);
    EXPECT_EQ(response.status(), 200U) << response.message.body();
    return body_of(response);
  }

  static WebhookDispatcherOptions dispatcher_options() {
    WebhookDispatcherOptions options;
    options.backoff = {10ms, 10ms};
    options.attempt_timeout = 5s;
    options.target_policy.allow_private = true;
    return options;
  }

  asio::io_context control_;
  StoreDeliveryRecorder recorder_{*store_, control_.get_executor()};
  WebhookDispatcher dispatcher_{dispatcher_options(), recorder_};
  WebhookFanout fanout_{*store_, events_, dispatcher_};
};

}  // namespace chorus::rest::test
