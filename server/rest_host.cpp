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
  ControlHandler(asio::io_context& control, const rest::Router& router) : control_(control), router_(router) {}

  asio::awaitable<rest::HttpResponse> handle(rest::HttpRequest request) override {
    auto task = on_control(router_, std::move(request));
    co_return co_await asio::co_spawn(control_.get_executor(), std::move(task), asio::use_awaitable);
  }

 private:
  static asio::awaitable<rest::HttpResponse> on_control(const rest::Router& router, rest::HttpRequest request) {
    co_return router.handle(request);
  }

  asio::io_context& control_;
  const rest::Router& router_;
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
}

std::expected<void, std::string> RestHost::load() {
  auto token = rest::load_admin_token(config_.admin_token, config_.data_dir);
  if (!token) return std::unexpected("admin token: " + token.error());
  admin_token_ = std::move(*token);
  key_lookup_ = std::make_unique<rest::StoreApiKeyLookup>(domain_.store);
  authenticator_ = std::make_unique<rest::Authenticator>(admin_token_.token, *key_lookup_);
  limiter_.attach_metrics(metrics_);
  router_ = std::make_unique<rest::Router>(*authenticator_, limiter_);
  http_metrics_ = std::make_unique<rest::HttpMetrics>(metrics_);
  recorder_ = std::make_unique<rest::StoreDeliveryRecorder>(domain_.store, control_.get_executor());
  dispatcher_ = std::make_unique<rest::WebhookDispatcher>(rest::WebhookDispatcherOptions{}, *recorder_);
  fanout_ = std::make_unique<WebhookFanoutHolder>(domain_.store, domain_.events, *dispatcher_);
  services_ = std::make_unique<rest::ApiServices>(
      rest::ApiServices{domain_.store, domain_.rooms, domain_.calendar, domain_.conference, domain_.events, metrics_,
                        config_.sip_host, hooks_.ready, hooks_.drain, hooks_.hang_up});
  services_->min_pin_digits = config_.min_pin_digits;
  services_->event_streams = config_.event_streams;
  services_->timers = &timers_;
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
  handler_ = std::make_unique<ControlHandler>(control_, *router_);
  http_ = std::make_unique<rest::HttpServer>(http, *handler_);
  if (auto started = http_->start(); !started) return started;
  // Known only now when --http-port is 0; set before the first request is served.
  if (!config_.public_host.empty()) {
    services_->web_base_url = "http://" + rest::web_url_host(config_.public_host) + ":" + std::to_string(port());
  }
  if (admin_token_.generated) {
    CHORUS_LOG(kInfo, "rest", "admin token generated", {"file", admin_token_.file.string()});
  } else if (!admin_token_.file.empty()) {
    CHORUS_LOG(kInfo, "rest", "admin token", {"file", admin_token_.file.string()});
  }
  return {};
}

void RestHost::stop() {
  if (http_) http_->stop();
  if (dispatcher_) dispatcher_->stop();
}

}  // namespace chorus::server
