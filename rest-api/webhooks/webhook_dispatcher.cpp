#include "rest-api/webhooks/webhook_dispatcher.hpp"

#include "common/log.hpp"
#include "rest-api/webhooks/webhook_signature.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace chorus::rest {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) { return std::tolower(static_cast<unsigned char>(x)) == y; });
}

// Splits "HOST[:PORT]" (HOST possibly "[v6]") into the address to connect to and the port.
std::expected<std::pair<std::string, std::uint16_t>, std::string> parse_authority(std::string_view authority) {
  std::string_view host = authority;
  std::string_view port_text;
  if (authority.starts_with('[')) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::unexpected("unterminated IPv6 literal");
    host = authority.substr(1, close - 1);
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) return std::unexpected("junk after the IPv6 literal");
    if (!rest.empty()) port_text = rest.substr(1);
  } else if (const std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port_text = authority.substr(colon + 1);
  }
  std::uint16_t port = 80;
  if (authority.ends_with(':')) return std::unexpected("empty port");
  if (!port_text.empty()) {
    const auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || ptr != port_text.data() + port_text.size() || port == 0) {
      return std::unexpected("invalid port");
    }
  }
  if (iequals(host, "localhost")) return std::pair{std::string("127.0.0.1"), port};
  boost::system::error_code ec;
  const bool bracketed = authority.starts_with('[');
  const asio::ip::address address = bracketed ? asio::ip::address(asio::ip::make_address_v6(std::string(host), ec))
                                              : asio::ip::address(asio::ip::make_address_v4(std::string(host), ec));
  if (ec) return std::unexpected("the host must be an IP literal or localhost (no DNS lookups)");
  return std::pair{address.to_string(), port};
}

}  // namespace

bool webhook_wants(const WebhookTarget& target, std::string_view type) {
  if (target.event_types.empty()) return true;
  return std::ranges::any_of(target.event_types, [&](const std::string& t) { return t == "*" || t == type; });
}

std::expected<WebhookUrl, std::string> parse_webhook_url(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.size() > 2048) return std::unexpected("URL longer than 2048 characters");
  if (url.size() >= 8 && iequals(url.substr(0, 8), "https://")) return std::unexpected("https is not supported");
  if (url.size() < kScheme.size() || !iequals(url.substr(0, kScheme.size()), kScheme)) {
    return std::unexpected("the URL must start with http://");
  }
  if (std::ranges::any_of(url, [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7F; })) {
    return std::unexpected("the URL contains spaces or control characters");
  }
  std::string_view rest = url.substr(kScheme.size());
  rest = rest.substr(0, rest.find('#'));  // RFC 3986 §3.5: the fragment is never sent
  const std::size_t path_start = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, path_start);
  if (authority.empty()) return std::unexpected("the URL has no host");
  if (authority.find('@') != std::string_view::npos) return std::unexpected("user information is not allowed");
  auto endpoint = parse_authority(authority);
  if (!endpoint) return std::unexpected(endpoint.error());
  WebhookUrl parsed;
  parsed.address = std::move(endpoint->first);
  parsed.port = endpoint->second;
  parsed.host_header = std::string(authority);
  if (path_start == std::string_view::npos) {
    parsed.target = "/";
  } else {
    parsed.target = std::string(rest.substr(path_start));
    if (parsed.target.starts_with('?')) parsed.target.insert(0, "/");
  }
  return parsed;
}

std::string_view to_string(AttemptStatus status) {
  switch (status) {
    case AttemptStatus::kDelivered:
      return "delivered";
    case AttemptStatus::kRetrying:
      return "retrying";
    case AttemptStatus::kFailed:
      return "failed";
  }
  return "unknown";
}

struct WebhookDispatcher::Delivery {
  std::string webhook_id;
  std::string secret;
  WebhookUrl url;
  std::uint64_t event_id = 0;
  std::string message_id;  // webhook-id header
  std::string body;        // the same bytes for every attempt
  std::uint32_t attempts = 0;
};

// Everything that lives on the dispatcher thread. Declared members are touched only there, except
// `io` (post/stop) and `thread` (join).
struct WebhookDispatcher::Loop {
  struct Outcome {
    std::optional<int> http_status;
    std::string error;
    bool final = false;  // no retry: the target is refused
  };

  explicit Loop(WebhookDispatcher& owner) : dispatcher(owner), wake(io, asio::steady_timer::time_point::max()) {}

  void push(std::shared_ptr<Delivery> delivery) {
    ready.push_back(std::move(delivery));
    wake.cancel_one();  // wakes one idle worker, if any; a busy one finds it when done
  }

  asio::awaitable<void> worker() {
    for (;;) {
      while (ready.empty()) {
        boost::system::error_code ec;  // operation_aborted = woken
        co_await wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
      std::shared_ptr<Delivery> delivery = std::move(ready.front());
      ready.pop_front();
      const Outcome outcome = co_await attempt(*delivery);
      settle(std::move(delivery), outcome);
    }
  }

  // One POST with one deadline for connect + write + read of the response header.
  asio::awaitable<Outcome> attempt(const Delivery& delivery) {
    const auto& options = dispatcher.options_;
    beast::tcp_stream stream(co_await asio::this_coro::executor);
    boost::system::error_code ec;
    const asio::ip::tcp::endpoint endpoint(asio::ip::make_address(delivery.url.address, ec), delivery.url.port);
    if (ec) co_return Outcome{std::nullopt, "bad address: " + ec.message()};
    if (auto refused = options.target_policy.refuse(endpoint.address())) {
      dispatcher.refused_.fetch_add(1);
      CHORUS_LOG(kWarn, "security", "webhook_refused", {"webhook", delivery.webhook_id}, {"reason", *refused});
      co_return Outcome{std::nullopt, "refused: " + *refused, true};
    }
    stream.expires_after(options.attempt_timeout);
    co_await stream.async_connect(endpoint, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return Outcome{std::nullopt, "connect: " + describe(ec)};

    const std::int64_t timestamp =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    const auto signature = sign_webhook(delivery.secret, delivery.message_id, timestamp, delivery.body);
    if (!signature) co_return Outcome{std::nullopt, "the webhook secret does not decode"};
    http::request<http::string_body> request{http::verb::post, delivery.url.target, 11};
    request.set(http::field::host, delivery.url.host_header);
    request.set(http::field::user_agent, "chorus-webhooks");
    request.set(http::field::content_type, "application/json");
    request.set(http::field::connection, "close");
    request.set("webhook-id", delivery.message_id);
    request.set("webhook-timestamp", std::to_string(timestamp));
    request.set("webhook-signature", *signature);
    request.body() = delivery.body;
    request.prepare_payload();
    co_await http::async_write(stream, request, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return Outcome{std::nullopt, "write: " + describe(ec)};

    // Only the status matters; the body is not read (Connection: close).
    beast::flat_buffer buffer;
    http::response_parser<http::empty_body> parser;
    parser.header_limit(16 * 1024);
    co_await http::async_read_header(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return Outcome{std::nullopt, "read: " + describe(ec)};
    const int status = static_cast<int>(parser.get().result_int());
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    if (status >= 200 && status < 300) co_return Outcome{status, {}};
    co_return Outcome{status, "HTTP " + std::to_string(status)};
  }

  static std::string describe(const boost::system::error_code& ec) {
    return ec == beast::error::timeout ? std::string("timeout") : ec.message();
  }

  // Records the attempt, then finishes the delivery or schedules the next attempt.
  void settle(std::shared_ptr<Delivery> delivery, const Outcome& outcome) {
    const auto& options = dispatcher.options_;
    ++delivery->attempts;
    const bool delivered = outcome.error.empty();
    const bool last = outcome.final || delivery->attempts >= options.backoff.size() + 1;
    DeliveryAttempt report{.webhook_id = delivery->webhook_id,
                           .event_id = delivery->event_id,
                           .webhook_message_id = delivery->message_id,
                           .attempt = delivery->attempts,
                           .status = delivered ? AttemptStatus::kDelivered
                                     : last    ? AttemptStatus::kFailed
                                               : AttemptStatus::kRetrying,
                           .http_status = outcome.http_status,
                           .error = outcome.error,
                           .at = std::chrono::system_clock::now()};
    // Counters first: a test (or metric) that sees the last attempt recorded sees them settled.
    if (delivered || last) dispatcher.finish(*delivery, delivered);
    try {
      dispatcher.recorder_.on_attempt(report);
    } catch (const std::exception& e) {
      CHORUS_LOG(kWarn, "webhooks", "delivery recorder threw", {"webhook", delivery->webhook_id}, {"error", e.what()});
    }
    if (delivered || last) return;
    asio::co_spawn(io, retry_after(std::move(delivery), options.backoff[report.attempt - 1]), asio::detached);
  }

  asio::awaitable<void> retry_after(std::shared_ptr<Delivery> delivery, std::chrono::milliseconds delay) {
    asio::steady_timer timer(io, delay);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    push(std::move(delivery));
  }

  WebhookDispatcher& dispatcher;
  asio::io_context io;
  asio::steady_timer wake;  // never expires; cancel_one() wakes an idle worker
  std::deque<std::shared_ptr<Delivery>> ready;
  std::thread thread;
};

WebhookDispatcher::WebhookDispatcher(WebhookDispatcherOptions options, DeliveryRecorder& recorder)
    : options_(std::move(options)), recorder_(recorder), loop_(std::make_unique<Loop>(*this)) {
  const std::size_t workers = std::max<std::size_t>(options_.max_connections, 1);
  for (std::size_t i = 0; i < workers; ++i) asio::co_spawn(loop_->io, loop_->worker(), asio::detached);
  loop_->thread = std::thread([loop = loop_.get()] { loop->io.run(); });
}

WebhookDispatcher::~WebhookDispatcher() {
  stop();
}

EnqueueResult WebhookDispatcher::enqueue(const WebhookTarget& target, const conference::Event& event) {
  if (!webhook_wants(target, event.type)) return EnqueueResult::kNotSubscribed;
  auto url = parse_webhook_url(target.url);
  if (!url) return EnqueueResult::kInvalidUrl;
  auto delivery = std::make_shared<Delivery>();
  delivery->webhook_id = target.id;
  delivery->secret = target.secret;
  delivery->url = std::move(*url);
  delivery->event_id = event.id;
  delivery->message_id = "evt_" + std::to_string(event.id);
  delivery->body = conference::event_to_json(event).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);

  const std::lock_guard lock(lifecycle_mutex_);
  if (stopped_) return EnqueueResult::kStopped;
  // Reserve a pending slot; finish() releases it.
  std::size_t pending = pending_.load();
  do {
    if (pending >= options_.max_pending) {
      dropped_.fetch_add(1);
      return EnqueueResult::kQueueFull;
    }
  } while (!pending_.compare_exchange_weak(pending, pending + 1));
  asio::post(loop_->io,
             [loop = loop_.get(), delivery = std::move(delivery)]() mutable { loop->push(std::move(delivery)); });
  return EnqueueResult::kQueued;
}

void WebhookDispatcher::finish(const Delivery& delivery, bool delivered) {
  (delivered ? delivered_ : failed_).fetch_add(1);
  pending_.fetch_sub(1);
  if (!delivered) {
    CHORUS_LOG(kInfo, "webhooks", "delivery failed after all attempts", {"webhook", delivery.webhook_id},
               {"event_id", delivery.event_id});
  }
}

void WebhookDispatcher::stop() {
  {
    const std::lock_guard lock(lifecycle_mutex_);
    if (stopped_) return;
    stopped_ = true;
  }
  loop_->io.stop();
  if (loop_->thread.joinable()) loop_->thread.join();
  // Destroying the loop destroys the suspended coroutines (their sockets and timers) while the
  // io_context they belong to still exists, then the io_context itself.
  loop_.reset();
}

}  // namespace chorus::rest
