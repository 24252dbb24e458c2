#include "server/rest_host.hpp"

#include <utility>  // before asio/awaitable.hpp: Boost 1.74 uses std::exchange without it

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <system_error>

#include "common/log.hpp"
#include "rest-api/api/all_routes.hpp"
#include "rest-api/api/api_key_routes.hpp"
#include "rest-api/api/webhook_fanout.hpp"

namespace chorus::server {

namespace asio = boost::asio;

// Runs each request's router pipeline on the control loop and hands the response back to the
// REST thread (rest-api/README.md: the awaitable is created before it is awaited, a GCC 12 rule).
class RestHost::ControlHandler final : public rest::RequestHandler {
 public:
  ControlHandler(asio::io_context& control, const rest::Router& router, rest::WriteGroupQueue& write_groups)
      : control_(control), router_(router), write_groups_(write_groups) {}

  asio::awaitable<rest::HttpResponse> handle(rest::HttpRequest request) override {
    // Issue 13: a route answered from a current snapshot skips the two thread hops, and the durable
    // writes of concurrent requests share one commit.
    if (auto local = router_.handle_local(request)) co_return std::move(*local);
    if (router_.joins_write_group(request)) {
      auto grouped = write_groups_.async_handle(std::move(request), asio::use_awaitable);
      co_return co_await std::move(grouped);
    }
    auto task = on_control(router_, std::move(request));
    co_return co_await asio::co_spawn(control_.get_executor(), std::move(task), asio::use_awaitable);
  }

 private:
  static asio::awaitable<rest::HttpResponse> on_control(const rest::Router& router, rest::HttpRequest request) {
    co_return router.handle(request);
  }

  asio::io_context& control_;
  const rest::Router& router_;
  rest::WriteGroupQueue& write_groups_;
};

class RestHost::WebhookFanoutHolder {
 public:
  WebhookFanoutHolder(conference::Store& store, conference::EventLog& events, rest::WebhookDispatcher& dispatcher)
      : fanout(store, events, dispatcher) {}
  rest::WebhookFanout fanout;
};

std::expected<std::unique_ptr<RestHost>, std::string> RestHost::open(RestHostConfig config, asio::io_context& control,
                                                                     RestDomain domain, RestHostHooks hooks) {
  std::unique_ptr<RestHost> host(new RestHost(std::move(config), control, domain, std::move(hooks)));
  if (auto loaded = host->load(); !loaded) return std::unexpected(loaded.error());
  host->add_routes();
  return host;
}

RestHost::RestHost(RestHostConfig config, asio::io_context& control, RestDomain domain, RestHostHooks hooks)
    : config_(std::move(config)),
      control_(control),
      domain_(domain),
      hooks_(std::move(hooks)),
      limiter_(config_.rate_limit) {}

RestHost::~RestHost() {
  stop();
  if (room_list_) domain_.rooms.set_listener(nullptr);
}

std::expected<void, std::string> RestHost::load() {
  auto token = rest::load_admin_token(config_.admin_token, config_.data_dir);
  if (!token) return std::unexpected("admin token: " + token.error());
  admin_token_ = std::move(*token);
  key_lookup_ = std::make_unique<rest::StoreApiKeyLookup>(domain_.store);
  rest::ApiKeyLookup* lookup = key_lookup_.get();
  if (!config_.shared_store) {
    key_cache_ = std::make_unique<rest::ApiKeyCache>();
    cached_lookup_ = std::make_unique<rest::CachingApiKeyLookup>(*key_lookup_, *key_cache_);
    lookup = cached_lookup_.get();
    room_list_ = std::make_unique<rest::RoomListSnapshot>(config_.sip_host, rest::kDefaultPageSize);
    domain_.rooms.set_listener(room_list_.get());
  }
  authenticator_ = std::make_unique<rest::Authenticator>(admin_token_.token, *lookup, key_cache_.get());
  limiter_.attach_metrics(metrics_);
  router_ = std::make_unique<rest::Router>(*authenticator_, limiter_);
  http_metrics_ = std::make_unique<rest::HttpMetrics>(metrics_);
  recorder_ = std::make_unique<rest::StoreDeliveryRecorder>(domain_.store, control_.get_executor());
  rest::WebhookDispatcherOptions dispatch;
  dispatch.max_pending = config_.webhook_queue_max;
  dispatch.target_policy = config_.webhook_policy;
  dispatcher_ = std::make_unique<rest::WebhookDispatcher>(std::move(dispatch), *recorder_);
  fanout_ = std::make_unique<WebhookFanoutHolder>(domain_.store, domain_.events, *dispatcher_);
  services_ = std::make_unique<rest::ApiServices>(
      rest::ApiServices{domain_.store, domain_.rooms, domain_.calendar, domain_.conference, domain_.events, metrics_,
                        config_.sip_host, hooks_.ready, hooks_.drain, hooks_.hang_up});
  services_->min_pin_digits = config_.min_pin_digits;
  services_->key_cache = key_cache_.get();
  services_->room_list = room_list_.get();
  services_->trunks = domain_.trunks;
  services_->system_status = hooks_.system_status;
  services_->cluster_drain = hooks_.cluster_drain;
  services_->conference_node_url = hooks_.conference_node_url;
  services_->node_id = hooks_.node_id;
  services_->webhook_policy = config_.webhook_policy;
  pruner_ = std::make_unique<conference::RetentionPruner>(domain_.events, domain_.store, config_.retention);
  register_egress_metrics();

  services_->event_streams = config_.event_streams;
  services_->timers = &timers_;
  services_->recordings = domain_.recordings;
  services_->dial_out = [this](const conference::DialOutRequest& request) {
    return domain_.conference.dial_out(request);
  };
  return {};
}

void RestHost::add_routes() {
  rest::WebRoutesConfig web{
      .web_root = config_.web_root,
      .client = {.ws_port = config_.ws_port, .wss_port = config_.wss_port, .default_host = config_.public_host}};
  rest::add_all_routes(*router_, *services_, fanout_->fanout, web);
}

std::expected<void, std::string> RestHost::start() {
  rest::HttpServerConfig http = config_.http_limits;
  http.bind_address = config_.bind_address;
  http.port = config_.http_port;
  http.metrics = http_metrics_.get();
  write_groups_ = std::make_unique<rest::WriteGroupQueue>(
      control_, *router_, [&store = domain_.store] { return store.begin_write_group(); }, services_->commit_effects,
      metrics_);
  handler_ = std::make_unique<ControlHandler>(control_, *router_, *write_groups_);
  http_ = std::make_unique<rest::HttpServer>(http, *handler_);
  if (auto started = http_->start(); !started) return started;
  // Known only now when --http-port is 0; set before the first request is served.
  if (!config_.public_host.empty()) {
    services_->web_base_url = "http://" + rest::web_url_host(config_.public_host) + ":" + std::to_string(port());
  }
  prune_every_minute();
  if (admin_token_.generated) {
    CHORUS_LOG(kInfo, "rest", "admin token generated", {"file", admin_token_.file.string()});
  } else if (!admin_token_.file.empty()) {
    CHORUS_LOG(kInfo, "rest", "admin token", {"file", admin_token_.file.string()});
  }
  return {};
}

void RestHost::prune_every_minute() {
  pruner_->prune(std::chrono::system_clock::now());
  if (!retention_timer_) retention_timer_.emplace(control_);
  retention_timer_->expires_after(std::chrono::minutes(1));
  retention_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (!ec) prune_every_minute();  // operation_aborted: stopped (this may be gone)
  });
}

// Issue 12's egress and retention counters; each follows a count kept elsewhere (they only grow).
void RestHost::register_egress_metrics() {
  struct Followed {
    rest::Counter* counter;
    std::function<std::uint64_t()> value;
  };
  std::vector<Followed> followed{
      {&metrics_.counter("chorus_events_pruned_total", "Events dropped from the event log (count or age bound)"),
       [this] { return domain_.events.dropped(); }},
      {&metrics_.counter("chorus_webhook_deliveries_pruned_total", "Webhook delivery rows pruned (count or age)"),
       [this] { return pruner_->deliveries_pruned(); }},
      {&metrics_.counter("chorus_webhook_refused_total", "Webhook deliveries refused: a private or special address"),
       [this] { return dispatcher_->refused(); }},
      {&metrics_.counter("chorus_webhook_dropped_total", "Webhook deliveries dropped: the queue was full"),
       [this] { return dispatcher_->dropped(); }},
      {&metrics_.counter("chorus_dial_out_refused_total", "Dial-outs refused by dial_out_allow / special addresses"),
       [this] { return domain_.conference.dial_out_refused(); }},
  };
  metrics_.on_collect([followed = std::move(followed)] {
    for (const auto& [counter, value] : followed) {
      const std::uint64_t now = value();
      counter->inc(now - std::min(now, counter->value()));
    }
  });
}

void RestHost::reload_webhooks() {
  if (!fanout_) return;
  if (auto reloaded = fanout_->fanout.reload(); !reloaded)
    CHORUS_LOG(kWarn, "rest", "webhooks not re-read", {"error", reloaded.error().message});
}

void RestHost::stop() {
  if (retention_timer_) retention_timer_->cancel();
  if (http_) http_->stop();
  if (dispatcher_) dispatcher_->stop();
}

}  // namespace chorus::server
