#include "rest-api/webhooks/webhook_dispatcher.hpp"

#include "rest-api/webhooks/webhook_signature.hpp"
#include "tests/unit/test_support/wait_until.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <functional>
#include <mutex>
#include <thread>

namespace chorus::rest {
namespace webhook_dispatcher_test {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using namespace std::chrono_literals;

using chorus::test::wait_until;

struct ReceivedRequest {
  std::string target;
  std::string webhook_id;
  std::string webhook_timestamp;
  std::string webhook_signature;
  std::string content_type;
  std::string body;
};

// A Beast HTTP/1.1 receiver on 127.0.0.1:0, on its own thread. Answers the n-th request with
// statuses[n] (the last one repeats); with `answer` false it reads requests and never replies.
class Receiver {
 public:
  explicit Receiver(std::vector<int> statuses, bool answer = true)
      : statuses_(std::move(statuses)),
        answer_(answer),
        acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(io_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Receiver() {
    io_.stop();
    thread_.join();
  }
  [[nodiscard]] std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  [[nodiscard]] std::string url(std::string_view path = "/hooks/chorus") const {
    return "http://127.0.0.1:" + std::to_string(port()) + std::string(path);
  }
  std::vector<ReceivedRequest> requests() {
    const std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      asio::co_spawn(io_, session(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> session(tcp::socket socket) {
    boost::beast::flat_buffer buffer;
    http::request<http::string_body> request;
    boost::system::error_code ec;
    co_await http::async_read(socket, buffer, request, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    std::size_t index = 0;
    {
      const std::lock_guard lock(mutex_);
      requests_.push_back({std::string(request.target()), std::string(request["webhook-id"]),
                           std::string(request["webhook-timestamp"]), std::string(request["webhook-signature"]),
                           std::string(request[http::field::content_type]), request.body()});
      index = requests_.size() - 1;
    }
    if (!answer_) {
      held_.push_back(std::move(socket));  // silent until the receiver stops
      co_return;
    }
    http::response<http::string_body> response{
        static_cast<http::status>(statuses_[std::min(index, statuses_.size() - 1)]), 11};
    response.set(http::field::connection, "close");
    response.body() = "ok";
    response.prepare_payload();
    co_await http::async_write(socket, response, asio::redirect_error(asio::use_awaitable, ec));
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }

  const std::vector<int> statuses_;
  const bool answer_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::vector<tcp::socket> held_;
  std::mutex mutex_;
  std::vector<ReceivedRequest> requests_;
  std::thread thread_;
};

class Recorder final : public DeliveryRecorder {
 public:
  void on_attempt(const DeliveryAttempt& attempt) override {
    const std::lock_guard lock(mutex_);
    attempts_.push_back(attempt);
  }
  std::vector<DeliveryAttempt> attempts() {
    const std::lock_guard lock(mutex_);
    return attempts_;
  }

 private:
  std::mutex mutex_;
  std::vector<DeliveryAttempt> attempts_;
};

constexpr std::string_view kSecret = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

conference::Event make_event(std::uint64_t id, std::string_view type = conference::event_type::kParticipantJoined) {
  return conference::Event{.id = id,
                           .type = std::string(type),
                           .at = std::chrono::system_clock::now(),
                           .data = nlohmann::json{{"room_id", "1000"}, {"participant_id", "p-1"}}};
}

WebhookDispatcherOptions fast_options() {
  WebhookDispatcherOptions options;
  options.backoff = {10ms, 20ms};  // three attempts in all
  options.attempt_timeout = 2s;
  options.target_policy.allow_private = true;  // the receiver is on loopback (issue 12 refuses it by default)
  return options;
}

// Issue 12: the target policy is checked before every attempt; a refused address fails the
// delivery at once — no connection, no retry — and is counted.
TEST(WebhookDispatcher, RefusesAPrivateTargetBeforeConnecting) {
  Receiver receiver({200});
  Recorder recorder;
  WebhookDispatcherOptions options = fast_options();
  options.target_policy.allow_private = false;
  WebhookDispatcher dispatcher(options, recorder);
  const WebhookTarget target{"wh_private", receiver.url(), std::string(kSecret), {"*"}};
  ASSERT_EQ(dispatcher.enqueue(target, make_event(9)), EnqueueResult::kQueued);
  ASSERT_TRUE(wait_until([&] { return !recorder.attempts().empty(); }));
  const auto attempts = recorder.attempts();
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].status, AttemptStatus::kFailed);
  EXPECT_EQ(attempts[0].error.rfind("refused: 127.0.0.1 is loopback", 0), 0u) << attempts[0].error;
  EXPECT_EQ(dispatcher.refused(), 1u);
  EXPECT_EQ(dispatcher.failed(), 1u);
  EXPECT_TRUE(receiver.requests().empty());
}

TEST(WebhookDispatcher, DeliversOnceOn2xxWithAVerifiableSignature) {
  Receiver receiver({200});
  Recorder recorder;
  WebhookDispatcher dispatcher(fast_options(), recorder);
  const WebhookTarget target{"wh_1", receiver.url(), std::string(kSecret), {"participant.joined"}};
  ASSERT_EQ(dispatcher.enqueue(target, make_event(7)), EnqueueResult::kQueued);

  ASSERT_TRUE(wait_until([&] { return !recorder.attempts().empty(); }));
  const auto attempts = recorder.attempts();
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].webhook_id, "wh_1");
  EXPECT_EQ(attempts[0].event_id, 7u);
  EXPECT_EQ(attempts[0].webhook_message_id, "evt_7");
  EXPECT_EQ(attempts[0].attempt, 1u);
  EXPECT_EQ(attempts[0].status, AttemptStatus::kDelivered);
  EXPECT_EQ(attempts[0].http_status, 200);
  EXPECT_TRUE(attempts[0].error.empty());
  EXPECT_EQ(dispatcher.delivered(), 1u);
  EXPECT_EQ(dispatcher.pending(), 0u);

  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1u);
  const ReceivedRequest& request = requests[0];
  EXPECT_EQ(request.target, "/hooks/chorus");
  EXPECT_EQ(request.webhook_id, "evt_7");
  EXPECT_EQ(request.content_type, "application/json");
  EXPECT_TRUE(verify_signature(kSecret, request.webhook_id, request.webhook_timestamp, request.body,
                               request.webhook_signature));
  const auto body = nlohmann::json::parse(request.body);
  EXPECT_EQ(body["id"], 7);
  EXPECT_EQ(body["type"], "participant.joined");
  EXPECT_TRUE(body["timestamp"].is_string());
  EXPECT_EQ(body["data"]["room_id"], "1000");
}

TEST(WebhookDispatcher, RetriesWithBackoffUntil2xx) {
  Receiver receiver({500, 500, 200});
  Recorder recorder;
  WebhookDispatcher dispatcher(fast_options(), recorder);
  const WebhookTarget target{"wh_2", receiver.url(), std::string(kSecret), {}};
  ASSERT_EQ(dispatcher.enqueue(target, make_event(8, conference::event_type::kRoomCreated)), EnqueueResult::kQueued);

  ASSERT_TRUE(wait_until([&] { return recorder.attempts().size() >= 3; }));
  const auto attempts = recorder.attempts();
  ASSERT_EQ(attempts.size(), 3u);
  EXPECT_EQ(attempts[0].status, AttemptStatus::kRetrying);
  EXPECT_EQ(attempts[0].http_status, 500);
  EXPECT_EQ(attempts[0].error, "HTTP 500");
  EXPECT_EQ(attempts[1].status, AttemptStatus::kRetrying);
  EXPECT_EQ(attempts[1].attempt, 2u);
  EXPECT_EQ(attempts[2].status, AttemptStatus::kDelivered);
  EXPECT_EQ(attempts[2].attempt, 3u);
  EXPECT_EQ(attempts[2].http_status, 200);
  EXPECT_EQ(dispatcher.delivered(), 1u);
  EXPECT_EQ(dispatcher.failed(), 0u);

  // Every attempt carries the same webhook-id and body, each signed afresh.
  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 3u);
  for (const auto& request : requests) {
    EXPECT_EQ(request.webhook_id, "evt_8");
    EXPECT_EQ(request.body, requests[0].body);
    EXPECT_TRUE(verify_signature(kSecret, request.webhook_id, request.webhook_timestamp, request.body,
                                 request.webhook_signature));
  }
}

TEST(WebhookDispatcher, FailsAfterTheConfiguredAttemptsWhenTheReceiverNeverAnswers) {
  Receiver receiver({200}, /*answer=*/false);
  Recorder recorder;
  WebhookDispatcherOptions options = fast_options();
  options.attempt_timeout = 200ms;
  WebhookDispatcher dispatcher(options, recorder);
  const WebhookTarget target{"wh_3", receiver.url("/"), std::string(kSecret), {"*"}};
  ASSERT_EQ(dispatcher.enqueue(target, make_event(9)), EnqueueResult::kQueued);

  ASSERT_TRUE(wait_until([&] { return dispatcher.failed() == 1 && recorder.attempts().size() == 3; }));
  const auto attempts = recorder.attempts();
  EXPECT_EQ(attempts[0].status, AttemptStatus::kRetrying);
  EXPECT_EQ(attempts[1].status, AttemptStatus::kRetrying);
  EXPECT_EQ(attempts[2].status, AttemptStatus::kFailed);
  for (const auto& attempt : attempts) {
    EXPECT_FALSE(attempt.http_status.has_value());
    EXPECT_EQ(attempt.error, "read: timeout");
  }
  EXPECT_EQ(receiver.requests().size(), 3u);
  EXPECT_EQ(dispatcher.pending(), 0u);
  EXPECT_EQ(dispatcher.delivered(), 0u);
}

TEST(WebhookDispatcher, BoundsPendingDeliveriesAndStopsPromptlyWithWorkInFlight) {
  Receiver receiver({200}, /*answer=*/false);
  Recorder recorder;
  WebhookDispatcherOptions options = fast_options();
  options.attempt_timeout = 60s;  // attempts stay in flight until stop()
  options.max_pending = 2;
  WebhookDispatcher dispatcher(options, recorder);
  const WebhookTarget target{"wh_4", receiver.url(), std::string(kSecret), {}};
  EXPECT_EQ(dispatcher.enqueue(target, make_event(1)), EnqueueResult::kQueued);
  EXPECT_EQ(dispatcher.enqueue(target, make_event(2)), EnqueueResult::kQueued);
  EXPECT_EQ(dispatcher.enqueue(target, make_event(3)), EnqueueResult::kQueueFull);
  EXPECT_EQ(dispatcher.enqueue(target, make_event(4)), EnqueueResult::kQueueFull);
  EXPECT_EQ(dispatcher.dropped(), 2u);
  EXPECT_EQ(dispatcher.pending(), 2u);
  ASSERT_TRUE(wait_until([&] { return receiver.requests().size() == 2; }));

  dispatcher.stop();  // must not wait for the 60 s deadline
  EXPECT_EQ(dispatcher.enqueue(target, make_event(5)), EnqueueResult::kStopped);
  EXPECT_TRUE(recorder.attempts().empty());
}

TEST(WebhookDispatcher, RefusesUnwantedTypesAndUnusableUrls) {
  Recorder recorder;
  WebhookDispatcher dispatcher(fast_options(), recorder);
  const conference::Event event = make_event(1, conference::event_type::kRoomDeleted);
  EXPECT_EQ(dispatcher.enqueue({"wh", "http://127.0.0.1:9/", std::string(kSecret), {"room.created"}}, event),
            EnqueueResult::kNotSubscribed);
  EXPECT_EQ(dispatcher.enqueue({"wh", "http://example.com/", std::string(kSecret), {}}, event),
            EnqueueResult::kInvalidUrl);
  EXPECT_EQ(dispatcher.enqueue({"wh", "https://127.0.0.1/", std::string(kSecret), {}}, event),
            EnqueueResult::kInvalidUrl);
  EXPECT_EQ(dispatcher.pending(), 0u);
}

TEST(WebhookUrl, AcceptsIpLiteralsAndLocalhostOnly) {
  auto url = parse_webhook_url("http://127.0.0.1:8081/hooks?x=1#frag");
  ASSERT_TRUE(url.has_value());
  EXPECT_EQ(url->address, "127.0.0.1");
  EXPECT_EQ(url->port, 8081);
  EXPECT_EQ(url->host_header, "127.0.0.1:8081");
  EXPECT_EQ(url->target, "/hooks?x=1");

  url = parse_webhook_url("HTTP://localhost");
  ASSERT_TRUE(url.has_value());
  EXPECT_EQ(url->address, "127.0.0.1");
  EXPECT_EQ(url->port, 80);
  EXPECT_EQ(url->target, "/");

  url = parse_webhook_url("http://[::1]:9000?q");
  ASSERT_TRUE(url.has_value());
  EXPECT_EQ(url->address, "::1");
  EXPECT_EQ(url->port, 9000);
  EXPECT_EQ(url->target, "/?q");

  for (const char* bad :
       {"http://example.com/", "https://127.0.0.1/", "ftp://127.0.0.1/", "http://", "http://:80/",
        "http://127.0.0.1:0/", "http://127.0.0.1:65536/", "http://127.0.0.1:/", "http://user@127.0.0.1/",
        "http://[::1/", "http://::1/", "http://127.0.0.1/a b", "http://1.2.3/"}) {
    EXPECT_FALSE(parse_webhook_url(bad).has_value()) << bad;
  }
}

TEST(WebhookTarget, EmptyOrStarMeansEveryType) {
  EXPECT_TRUE(webhook_wants({"wh", "", "", {}}, "room.created"));
  EXPECT_TRUE(webhook_wants({"wh", "", "", {"*"}}, "room.created"));
  EXPECT_TRUE(webhook_wants({"wh", "", "", {"room.deleted", "room.created"}}, "room.created"));
  EXPECT_FALSE(webhook_wants({"wh", "", "", {"room.deleted"}}, "room.created"));
}

}  // namespace webhook_dispatcher_test
}  // namespace chorus::rest
