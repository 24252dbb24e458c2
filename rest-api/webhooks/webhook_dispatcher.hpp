// Delivers conference events to webhooks: an HTTP/1.1 POST (Boost.Beast client) of
// {"id","type","timestamp","data"} signed per the Standard Webhooks scheme (webhook_signature.hpp),
// retried with exponential backoff, every attempt reported to a DeliveryRecorder.
//
// Threading model: the dispatcher owns one boost::asio::io_context and the thread that runs it.
// enqueue() and the counters may be called from any thread (the control loop, normally); all
// delivery state lives on the dispatcher thread. DeliveryRecorder::on_attempt() is called on the
// dispatcher thread — an implementation that writes the store posts to the control loop. stop()
// (any thread but the dispatcher's) abandons what is pending and joins the thread promptly.
//
// Limits: http:// only, and the host must be an IP literal or "localhost" — no DNS lookup ever
// runs here, so the address checked against `target_policy` before each attempt is the one
// connected to (no rebinding); `max_pending` deliveries (queued, in flight or waiting to retry) at most, more are
// dropped and counted; `max_connections` attempts run at once; each attempt has one deadline
// (`attempt_timeout`) for connect + write + read; the response body is read up to
// `max_response_body` bytes and ignored.
#pragma once

#include "conference/egress_policy.hpp"
#include "conference/events/event_log.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <expected>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace chorus::rest {

// Where and how to deliver; a copy of the stored Webhook (id, url, secret, event_types).
struct WebhookTarget {
  std::string id;
  std::string url;
  std::string secret;                    // "whsec_..." (webhook_signature.hpp)
  std::vector<std::string> event_types;  // empty or "*" = every type
};

// True when `target` wants events of `type`.
bool webhook_wants(const WebhookTarget& target, std::string_view type);

// A parsed webhook URL: http://HOST[:PORT][/PATH[?QUERY]], HOST an IPv4 literal, a bracketed IPv6
// literal or "localhost" (= 127.0.0.1). The REST handler validates URLs with it on create.
struct WebhookUrl {
  std::string address;  // the IP literal to connect to
  std::uint16_t port = 80;
  std::string host_header;  // as written in the URL ("127.0.0.1:8081", "[::1]:80", "localhost")
  std::string target;       // "/path?query", "/" when absent
};
std::expected<WebhookUrl, std::string> parse_webhook_url(std::string_view url);

enum class AttemptStatus { kDelivered, kRetrying, kFailed };
std::string_view to_string(AttemptStatus status);

// One attempt at one delivery. kRetrying = this attempt failed and another is scheduled;
// kFailed = this was the last attempt. webhook_message_id is the webhook-id header.
struct DeliveryAttempt {
  std::string webhook_id;
  std::uint64_t event_id = 0;
  std::string webhook_message_id;  // "evt_<event id>", the same for every attempt
  std::uint32_t attempt = 0;       // 1, 2, ...
  AttemptStatus status = AttemptStatus::kFailed;
  std::optional<int> http_status;  // none when no response came
  std::string error;               // empty when delivered
  std::chrono::system_clock::time_point at;
};

class DeliveryRecorder {
 public:
  virtual ~DeliveryRecorder() = default;
  // Dispatcher thread. Must not block for long and must not call stop().
  virtual void on_attempt(const DeliveryAttempt& attempt) = 0;
};

struct WebhookDispatcherOptions {
  // Waits before attempts 2, 3, ...; attempts in all = backoff.size() + 1.
  std::vector<std::chrono::milliseconds> backoff{std::chrono::seconds(1), std::chrono::seconds(2),
                                                 std::chrono::seconds(4), std::chrono::seconds(8),
                                                 std::chrono::seconds(16)};
  std::chrono::milliseconds attempt_timeout{std::chrono::seconds(5)};
  std::size_t max_pending = 10'000;
  std::size_t max_connections = 16;
  std::size_t max_response_body = 64 * 1024;
  // Issue 12: checked before every attempt (a stored webhook may predate the setting or the
  // check); a refused address fails the delivery at once, without retries.
  conference::WebhookTargetPolicy target_policy;
};

enum class EnqueueResult { kQueued, kNotSubscribed, kInvalidUrl, kQueueFull, kStopped };

class WebhookDispatcher {
 public:
  // Starts the dispatcher thread. `recorder` must outlive the dispatcher (or its stop()).
  WebhookDispatcher(WebhookDispatcherOptions options, DeliveryRecorder& recorder);
  ~WebhookDispatcher();
  WebhookDispatcher(const WebhookDispatcher&) = delete;
  WebhookDispatcher& operator=(const WebhookDispatcher&) = delete;

  // Any thread. Queues one delivery of `event` to `target` when the target wants its type.
  EnqueueResult enqueue(const WebhookTarget& target, const conference::Event& event);

  // Any thread except the dispatcher's; idempotent. Pending deliveries are abandoned unrecorded.
  void stop();

  [[nodiscard]] std::size_t pending() const { return pending_.load(); }
  [[nodiscard]] std::uint64_t dropped() const { return dropped_.load(); }      // queue full
  [[nodiscard]] std::uint64_t delivered() const { return delivered_.load(); }  // 2xx received
  [[nodiscard]] std::uint64_t failed() const { return failed_.load(); }        // attempts exhausted
  [[nodiscard]] std::uint64_t refused() const { return refused_.load(); }      // target_policy said no

 private:
  struct Delivery;
  struct Loop;  // io_context, its thread and the dispatcher-thread state

  void finish(const Delivery& delivery, bool delivered);

  const WebhookDispatcherOptions options_;
  DeliveryRecorder& recorder_;
  std::atomic<std::size_t> pending_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> delivered_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::atomic<std::uint64_t> refused_{0};
  std::mutex lifecycle_mutex_;  // orders enqueue()'s post against stop()
  bool stopped_ = false;        // guarded by lifecycle_mutex_
  std::unique_ptr<Loop> loop_;
};

}  // namespace chorus::rest
